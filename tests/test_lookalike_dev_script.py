"""benchmarks/lookalike_dev.py skips cleanly where the real dev data is absent (as for every user)."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "lookalike_dev.py"


def _module():
    spec = importlib.util.spec_from_file_location("lookalike_dev", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_skips_without_the_dev_data(tmp_path, capsys, monkeypatch):
    mod = _module()
    monkeypatch.delenv(mod.DATA_ENV, raising=False)
    out = tmp_path / "results"
    assert mod.main(["--data", str(tmp_path / "absent"), "--out", str(out)]) == 0
    assert "skipping" in capsys.readouterr().out
    assert not out.exists()


def test_draws_are_seeded_and_only_from_categories_with_four_channels():
    mod = _module()
    category_of = {f"a{i}": "A" for i in range(5)} | {f"b{i}": "B" for i in range(3)} | {f"c{i}": "C" for i in range(4)}
    picks = mod.draws(category_of, n=3, seed=7)
    assert picks == mod.draws(category_of, n=3, seed=7)
    assert [cat for cat, _ in picks] == ["A"] * 3 + ["C"] * 3
    assert all(len(set(given)) == 3 and all(category_of[c] == cat for c in given) for cat, given in picks)
    # A short list counts its gaps as misses.
    assert mod.share(["a1", "c0", "a2"], "A", category_of) == 0.2
