"""benchmarks/niches_dev.py skips cleanly where the real dev data is absent (as for every user)."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "niches_dev.py"


def test_skips_without_the_dev_data(tmp_path, capsys, monkeypatch):
    spec = importlib.util.spec_from_file_location("niches_dev", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.delenv(mod.DATA_ENV, raising=False)
    out = tmp_path / "results"
    assert mod.main(["--data", str(tmp_path / "absent"), "--out", str(out)]) == 0
    assert "skipping" in capsys.readouterr().out
    assert not out.exists()


def test_agreement_table_counts_the_most_common_niche():
    spec = importlib.util.spec_from_file_location("niches_dev", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    t = mod.agreement_table(["Sports", "Sports", "Sports", "Music"], ["team_sports", "team_sports", None, "music"], {"music": "Music"})
    assert t.to_dict("records") == [
        {"category": "Sports", "n": 3, "top niche": "team_sports (`team_sports`)", "share": 2 / 3, "runner-up": "(none) (`(none)`)", "runner-up share": 1 / 3},
        {"category": "Music", "n": 1, "top niche": "Music (`music`)", "share": 1.0, "runner-up": "", "runner-up share": 0.0},
    ]
