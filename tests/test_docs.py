"""The docs: generated pages are current, and hand-written figures, defaults and links agree with their sources."""

from __future__ import annotations

import dataclasses
import re
import runpy
import tomllib
from pathlib import Path

import pytest

from matcher.config import Config

ROOT = Path(__file__).resolve().parents[1]
DOCS = runpy.run_path(str(ROOT / "docs" / "make_docs.py"), run_name="make_docs")
REGENERATE = "regenerate with: python docs/make_docs.py"


def test_generated_pages_and_blocks_are_current():
    assert DOCS["stale"]() == [], REGENERATE


def test_config_defaults_render_as_toml_that_loads_back_to_the_defaults():
    data = tomllib.loads(DOCS["config_toml"]())
    assert Config.from_dict(data) == Config()
    # Every key is written, none is left to the loader's defaults.
    flat = DOCS["config_defaults"]()
    written = {f"{s}.{k}" if isinstance(v, dict) else s for s, v in data.items() for k in (v if isinstance(v, dict) else [None])}
    assert written == set(flat)


def test_config_page_states_every_default_of_the_code():
    page = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    for key, value in DOCS["config_defaults"]().items():
        if isinstance(value, dict):
            assert f"| `{key}` | a table of category = [words]: " in page, key
            for category in value:
                assert f"`{category}` {DOCS['toml_value'](list(value[category]))}" in page, (key, category)
        else:
            assert f"| `{key}` | `{DOCS['toml_value'](value)}` |" in page, key


def test_config_page_gives_every_section_its_docstring():
    page = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    for f in dataclasses.fields(Config):
        if dataclasses.is_dataclass(getattr(Config(), f.name)):
            assert f"## [{f.name}]" in page


def test_cli_page_has_every_command_and_option_of_the_parser():
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    commands = DOCS["cli_commands"]()
    assert {c for c, _ in commands} >= {"batch", "recommend", "matches", "export", "serve", "eval"}
    for command, summary in commands:
        section = page.split(f"## matcher {command}\n", 1)[1].split("\n## ", 1)[0]
        for option in set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", DOCS["cli_help"](command))):
            assert option in section, (command, option)
        assert summary in page


def test_readme_lists_every_command_and_keeps_the_two_make_targets():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command, _ in DOCS["cli_commands"]():
        assert f"[`matcher {command}`](docs/cli.md#matcher-{command})" in readme
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("demo", "test"):
        assert re.search(rf"^{target}:", makefile, re.MULTILINE)
        assert re.search(rf"^make {target}\b", readme, re.MULTILINE)


def test_evaluation_page_quotes_the_held_out_table_of_the_results_file():
    page = (ROOT / "docs" / "evaluation.md").read_text(encoding="utf-8")
    body = DOCS["results_section"]("relevance.md", "Held-out halves")
    if body is None:
        assert "has no \"Held-out halves\" section in this checkout" in page
    else:
        assert body in page
        assert "| system |" in body


def test_hand_written_defaults_agree_with_the_code():
    assert DOCS["check_defaults"]() == []


def test_hand_written_severities_agree_with_the_code():
    assert DOCS["check_severity"]() == []


def test_quoted_result_rows_are_verbatim():
    assert DOCS["check_quotes"]() == []


def test_figures_next_to_a_results_file_come_from_it():
    assert DOCS["check_figures"]() == []


def test_every_relative_link_resolves():
    assert DOCS["check_links"]() == []


# -- the checks can fail ---------------------------------------------------------------------------

def _page(tmp_path: Path, text: str) -> list[Path]:
    page = tmp_path / "page.md"
    page.write_text(text, encoding="utf-8")
    return [page]


def test_default_check_catches_a_wrong_default_and_an_unknown_key(tmp_path):
    pages = _page(tmp_path, (
        "The audit allows `batch.max_shrink` (30%) and keeps `batch.keep_snapshots` (7) snapshots;\n"
        "`index.candidates` (200) candidates, `fit.exclude_brand_accounts` (false), `embed.backend` (`\"auto\"`),\n"
        "`embed.long_text` (`\"truncate\"`), `top_k` (50), `max_text_chars` (2,000).\n"
        "`embed.no_such_key` does nothing; `signals.parquet` is a file.\n"
        "```\n`batch.max_shrink` (99%) in code is not checked\n```\n"
    ))
    found = DOCS["check_defaults"](pages)
    assert len(found) == 4, found
    assert any("batch.max_shrink" in p and "0.25" in p for p in found)
    assert any("embed.long_text" in p for p in found)
    assert any("fit.exclude_brand_accounts" in p for p in found)
    assert any("embed.no_such_key" in p for p in found)


def test_severity_check_catches_a_wrong_grade(tmp_path):
    pages = _page(tmp_path, "| `ENGAGEMENT_POD` | minor | pods |\n| `FEW_COMMENTS_PER_LIKE` | major | ok |\n")
    found = DOCS["check_severity"](pages)
    assert len(found) == 1 and "ENGAGEMENT_POD" in found[0]


def test_quote_check_catches_an_altered_row(tmp_path):
    row = next(line for line in (ROOT / "benchmarks/results/serve_load.md").read_text(encoding="utf-8").splitlines() if line.startswith("| **HTTP at 30/s"))
    pages = _page(tmp_path, "<!-- quote: benchmarks/results/serve_load.md -->\n" + row + "\n" + row.replace("27.3", "17.3") + "\n\nnot quoted | 1 |\n")
    found = DOCS["check_quotes"](pages)
    assert len(found) == 1 and "17.3" in found[0]


def test_figure_check_catches_a_figure_not_in_the_named_file(tmp_path):
    pages = _page(tmp_path, (
        "At 30 requests/s p95 27.3 ms and 0 errors (`benchmarks/results/serve_load.md`).\n\n"
        "- p95 25.3 ms, 4.5x faster, 12% of the time (`benchmarks/results/serve_load.md`)\n"
        "- 25.3 ms with no results file named is not checked\n"
    ))
    found = DOCS["check_figures"](pages)
    assert sorted(p.split(": ")[1].split(" ")[0] for p in found) == ["12", "25.3", "4.5"], found


def test_link_check_catches_missing_files_and_anchors(tmp_path):
    (tmp_path / "other.md").write_text("# Other page\n\n## A section\n", encoding="utf-8")
    pages = _page(tmp_path, (
        "[ok](other.md) [ok](other.md#a-section) [ok](#here) [web](https://example.com/x)\n"
        "[bad](missing.md) [bad](other.md#no-such-section)\n\n## Here\n"
    ))
    found = DOCS["check_links"](pages)
    assert len(found) == 2, found
    assert any("missing.md" in p for p in found) and any("no-such-section" in p for p in found)
