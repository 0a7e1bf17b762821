"""The package's shape: the layer contracts in pyproject.toml hold, and light imports stay light.

Layers: contract <- stages <- orchestration <- surfaces, checked by import-linter; signals and
rerank never import torch or FAISS. Import weight is checked in fresh interpreters, because this
test process has long since imported everything.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import matcher

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("faiss", "torch", "pyarrow", "sentence_transformers")


def _env(root: Path = ROOT) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(root) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "lint-imports"
    assert exe.exists(), f"{exe} is missing: install the test extra (pip install -e '.[test]') for import-linter"
    return subprocess.run(
        [str(exe), "--no-cache", "--no-logo"], cwd=root, env=_env(root), capture_output=True, text=True, timeout=300,
    )


def _loaded_after(code: str, *, names: tuple[str, ...]) -> list[str]:
    """Which top-level packages of ``names`` a fresh interpreter has loaded after running ``code``."""
    probe = (
        "import json, sys\n"
        f"{code}\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({list(names)!r}))))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_layer_contracts_are_kept():
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " 0 broken." in done.stdout, done.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("store/store.py", "from matcher.cli import main", "contract <- stages <- orchestration <- surfaces"),  # a stage imports a surface
        ("schema.py", "from matcher.text import normalize_text", "contract <- stages <- orchestration <- surfaces"),  # the contract imports a stage
        ("rerank.py", "import faiss", "signals and rerank import neither torch nor FAISS"),
        ("text.py", "import torch", "signals and rerank import neither torch nor FAISS"),  # signals -> config is fine; rerank -> niches -> ingest -> text is not
    ],
)
def test_a_broken_rule_fails_the_check(tmp_path, module, line, contract):
    shutil.copytree(ROOT / "matcher", tmp_path / "matcher", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    path = tmp_path / "matcher" / module
    path.write_text(path.read_text() + f"\n\ndef _breaks_the_rule():\n    {line}\n")
    done = _lint_imports(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{contract} BROKEN" in done.stdout, done.stdout


def test_a_module_without_a_layer_fails_the_check(tmp_path):
    shutil.copytree(ROOT / "matcher", tmp_path / "matcher", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "matcher" / "unplaced.py").write_text('"""A module nobody gave a layer."""\n')
    done = _lint_imports(tmp_path)
    assert done.returncode != 0
    assert "matcher.unplaced" in done.stdout + done.stderr


def test_import_matcher_loads_no_heavy_library():
    assert _loaded_after("import matcher", names=(*HEAVY, "pandas", "numpy")) == []


def test_signals_and_rerank_load_neither_torch_nor_faiss():
    assert _loaded_after("import matcher.signals", names=HEAVY) in ([], ["pyarrow"])  # pandas may bring pyarrow
    assert _loaded_after("import matcher.rerank", names=("faiss", "torch", "sentence_transformers")) == []


@pytest.mark.parametrize("argv", [["--help"], ["recommend", "--help"], ["batch", "--help"]])
def test_cli_help_loads_no_pipeline(argv):
    code = f"from matcher.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit as exc:\n    assert exc.code == 0, exc.code"
    assert _loaded_after(code, names=(*HEAVY, "pandas", "numpy", "fastapi")) == []


def test_public_names_resolve_to_their_modules():
    for name in matcher.__all__:
        obj = getattr(matcher, name)
        assert getattr(sys.modules[obj.__module__], name) is obj
        assert name in dir(matcher)
    from matcher import Filters, Matcher, sample  # a name, a lazily loaded class, a submodule

    assert Matcher.__module__ == "matcher.engine" and Filters.__module__ == "matcher.schema"
    assert sample.__name__ == "matcher.sample"
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        matcher.Nope  # noqa: B018
