"""benchmarks/eval_dev.py skips cleanly where the real dev data is absent (as for every user)."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "eval_dev.py"


def _load():
    spec = importlib.util.spec_from_file_location("eval_dev", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_skips_without_the_dev_data(tmp_path, capsys, monkeypatch):
    mod = _load()
    monkeypatch.delenv(mod.DATA_ENV, raising=False)
    out = tmp_path / "results"
    assert mod.main(["--data", str(tmp_path / "absent"), "--out", str(out)]) == 0
    assert "skipping" in capsys.readouterr().out
    assert not out.exists()
    # A directory with only part of the files is treated as absent too.
    (tmp_path / "partial" / "youtube").mkdir(parents=True)
    (tmp_path / "partial" / "crosswalk.csv").write_text("amazon_category_prefix,youtube_category\n")
    assert mod.data_dir(str(tmp_path / "partial")) is None
