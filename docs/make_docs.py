"""Generate the parts of the docs that come from the code or the committed results, and check the rest.

Run from the repository root:

    python docs/make_docs.py           # rewrite generated pages and blocks
    python docs/make_docs.py --check   # exit 1 naming every stale page, broken link or wrong figure

Generated in full: ``docs/config.md`` (from the dataclasses of ``matcher/config.py``: every key, its
default and the comment or docstring beside it), ``docs/cli.md`` (the ``--help`` of ``matcher`` and
of each command) and ``docs/niches.md`` (``docs/niches_table.py``).

Generated blocks inside hand-written pages sit between ``<!-- generated: NAME -->`` and
``<!-- end generated -->``; :data:`BLOCKS` names what fills each one.

Checked in hand-written text (``tests/test_docs.py`` runs every check):

- a default written as ```section.key` (value)`` equals the code's default, and every
  ```section.key``` named is a real setting;
- a reason code's severity in a ``| `CODE` | severity |`` row is ``matcher.signals.SEVERITY``'s;
- a table after ``<!-- quote: benchmarks/results/FILE.md -->`` has every row verbatim in that file;
- a paragraph or list item that names ``benchmarks/results/FILE.md`` quotes only figures (decimals,
  percentages, thousands, ratios) that appear in the files it names;
- every relative link resolves to a file, and its ``#anchor`` to a heading there.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import inspect
import io
import json
import os
import re
import runpy
import sys
import tokenize
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from matcher.config import Config, Weights  # noqa: E402

#: Terminal width the ``--help`` texts are rendered at, so the page does not depend on who ran it.
HELP_COLUMNS = 100
RESULTS = ROOT / "benchmarks" / "results"
BEGIN = re.compile(r"^<!-- generated: ([a-z0-9-]+) -->$")
END = "<!-- end generated -->"


# -- configuration ---------------------------------------------------------------------------------

def _plain(doc: str) -> str:
    """Sphinx roles and double backticks as Markdown code."""
    doc = re.sub(r":[a-z]+:`~?([^`]+)`", r"`\1`", doc)
    return doc.replace("``", "`")


def _field_comments(cls: type) -> dict[str, str]:
    """The comments beside each field of a dataclass: the block right above it, then the trailing one."""
    source = inspect.getsource(cls)
    lines = source.splitlines()
    comments: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("#").strip()
    names = {f.name for f in dataclasses.fields(cls)}
    out: dict[str, str] = {}
    for no, line in enumerate(lines, start=1):
        m = re.match(r"^    (\w+)\s*:", line)
        if not m or m.group(1) not in names:
            continue
        above: list[str] = []
        prev = no - 1
        while prev >= 1 and lines[prev - 1].strip().startswith("#"):
            above.insert(0, comments[prev])
            prev -= 1
        parts = [" ".join(above)] if above else []
        if no in comments and not lines[no - 1].strip().startswith("#"):
            parts.append(comments[no])
        out[m.group(1)] = " ".join(p[0].upper() + p[1:].rstrip(".") + "." for p in parts if p)
    return out


def toml_value(value: Any) -> str:
    """A default as TOML writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def _sections() -> list[tuple[str, type, Any]]:
    """(section name, dataclass, default value) of every section of :class:`Config`, in order."""
    default = Config()
    return [
        (f.name, type(getattr(default, f.name)), getattr(default, f.name))
        for f in dataclasses.fields(Config)
        if dataclasses.is_dataclass(getattr(default, f.name))
    ]


def config_defaults() -> dict[str, Any]:
    """Every setting's dotted key (``embed.batch_size``, ``top_k``) and its default."""
    default = Config()
    flat: dict[str, Any] = {}
    for f in dataclasses.fields(Config):
        value = getattr(default, f.name)
        if dataclasses.is_dataclass(value):
            for g in dataclasses.fields(value):
                flat[f"{f.name}.{g.name}"] = getattr(value, g.name)
        else:
            flat[f.name] = value
    return flat


def config_toml() -> str:
    """Every default as one TOML file (it loads back to ``Config()``; the docs test checks that)."""
    default = Config()
    out = ["# matcher's defaults: docs/config.md explains each key"]
    for f in dataclasses.fields(Config):
        value = getattr(default, f.name)
        if not dataclasses.is_dataclass(value):
            out.append(f"{f.name} = {toml_value(value)}")
    for name, cls, value in _sections():
        out += ["", f"[{name}]"]
        tables = []
        for g in dataclasses.fields(cls):
            v = getattr(value, g.name)
            if isinstance(v, dict):
                tables.append((g.name, v))
            else:
                out.append(f"{g.name} = {toml_value(v)}")
        for tname, table in tables:
            out += ["", f"[{name}.{tname}]"] + [f"{k} = {toml_value(v)}" for k, v in table.items()]
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_config() -> str:
    """docs/config.md."""
    lines = [
        "# Configuration",
        "",
        "<!-- Generated by docs/make_docs.py from matcher/config.py; edit the code, then rerun it. -->",
        "",
        "Every setting has a default in `matcher/config.py`. A TOML file (`matcher --config FILE.toml`,",
        "`Config.load(path)`) overrides the defaults, and environment variables `MATCHER_<SECTION>__<KEY>`",
        "override the file: `MATCHER_WEIGHTS__TOPIC=0.8`, `MATCHER_TOP_K=100` (values are read as JSON when",
        "they parse, so `MATCHER_LANGUAGE__LANGUAGES='[\"en\", \"de\"]'` gives a list). The result is a frozen",
        "value validated on construction: an unknown key or an out-of-range value is rejected with the",
        "setting named. A list given in a file replaces the default list; it does not extend it.",
        "",
        "Everything except `[serve]` enters the config fingerprint recorded in each snapshot's manifest and",
        "in the key of a batch run's checkpoints (see [the store](store.md)).",
        "",
    ]
    sections: list[tuple[str, type, Any, str]] = [("top level", Config, Config(), "")]
    sections += [(name, cls, value, f"{name}.") for name, cls, value in _sections()]
    for title, cls, value, prefix in sections:
        heading = "Top level" if title == "top level" else f"[{title}]"
        lines += [f"## {heading}", ""]
        doc = inspect.getdoc(cls) or ""
        if cls is not Config and doc:
            lines += [_plain(doc), ""]
        comments = _field_comments(cls)
        lines += ["| key | default | meaning |", "|---|---|---|"]
        for g in dataclasses.fields(cls):
            v = getattr(value, g.name)
            if dataclasses.is_dataclass(v):
                continue
            shown = "a table of category = [words]: " + "; ".join(f"`{k}` {toml_value(list(w))}" for k, w in v.items()) if isinstance(v, dict) else f"`{toml_value(v)}`"
            lines.append(f"| `{prefix}{g.name}` | {_cell(shown)} | {_cell(_plain(comments.get(g.name, '')))} |")
        lines.append("")
    lines += [
        "## Every default as a file",
        "",
        "A starting point for your own file: copy it, keep the keys you change.",
        "",
        "```toml",
        config_toml().rstrip("\n"),
        "```",
        "",
    ]
    return "\n".join(lines)


# -- command line ----------------------------------------------------------------------------------

def cli_help(*argv: str, columns: int = HELP_COLUMNS) -> str:
    """What ``matcher ARGV --help`` prints, at a fixed width."""
    from matcher.cli import main

    names = ("COLUMNS", "NO_COLOR", "PYTHON_COLORS", "FORCE_COLOR")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update({"COLUMNS": str(columns), "NO_COLOR": "1", "PYTHON_COLORS": "0"})
    os.environ.pop("FORCE_COLOR", None)
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            try:
                main([*argv, "--help"])
            except SystemExit:
                pass
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return buf.getvalue().rstrip() + "\n"


def cli_commands() -> list[tuple[str, str]]:
    """(command, one-line help) of every ``matcher`` command, read from ``matcher --help``."""
    text = cli_help(columns=1000)
    out: list[tuple[str, str]] = []
    inside = False
    for line in text.splitlines():
        if line.startswith("positional arguments"):
            inside = True
            continue
        if inside and not line.startswith(" "):
            break
        m = re.match(r"^    (\w[\w-]*)\s{2,}(.+)$", line)
        if inside and m:
            out.append((m.group(1), m.group(2).strip()))
    return out


def render_cli() -> str:
    """docs/cli.md."""
    lines = [
        "# Command line",
        "",
        "<!-- Generated by docs/make_docs.py from `matcher --help` and `matcher <command> --help`; rerun it after changing matcher/cli.py. -->",
        "",
        "`matcher` (also `python -m matcher.cli`) has one command per task. The options before the command",
        "(`-v`, `-q`, `--config FILE.toml`) apply to all of them; progress bars are drawn only on a terminal.",
        "",
        "Exit codes: `0` success; `2` bad input or usage, with one line on stderr saying what to fix (for",
        "`batch` also a failed audit or a store locked by another run); `1` anything else (for `batch`, a",
        "failed write such as a full disk, again with one line saying what happened and that nothing was",
        "published).",
        "",
        "| command | what it does |",
        "|---|---|",
    ]
    commands = cli_commands()
    lines += [f"| [`{c}`](#matcher-{c}) | {_cell(h)} |" for c, h in commands]
    lines += ["", "## matcher", "", "```text", cli_help().rstrip("\n"), "```", ""]
    for c, _ in commands:
        lines += [f"## matcher {c}", "", "```text", cli_help(c).rstrip("\n"), "```", ""]
    return "\n".join(lines)


def block_cli_table() -> str:
    """The README's table of commands, each linked to its reference."""
    lines = ["| command | what it does |", "|---|---|"]
    lines += [f"| [`matcher {c}`](docs/cli.md#matcher-{c}) | {_cell(h)} |" for c, h in cli_commands()]
    return "\n".join(lines)


# -- scoring ---------------------------------------------------------------------------------------

#: What each component measures (the formulas live in matcher.signals and matcher.rerank).
COMPONENT_VALUES = {
    "topic": "0.5 × cosine(brief, profile) + 0.5 × mean cosine of the creator's 3 best-matching posts (those posts are the match's `evidence`)",
    "engagement": "0.7 × percentile of the credible engagement rate in its platform and tier + 0.15 × consistency + 0.15 × recency",
    "trust": "authenticity × (0.5 + 0.5 × transparency); authenticity alone without sponsored posts",
    "conversation": "0.5 × answer rate + 0.3 × reply speed + 0.2 × (1 − generic share); unavailable without comments",
    "fit": "mean of the follower-band fit and topical focus",
}


def block_weights() -> str:
    """The components with their default weights, as ``matcher.config.Weights`` has them."""
    w = Weights()
    names = [f.name for f in dataclasses.fields(Weights)]
    missing = set(names) ^ set(COMPONENT_VALUES)
    if missing:
        raise SystemExit(f"docs/make_docs.py: describe the components {sorted(missing)} in COMPONENT_VALUES")
    norm = w.normalized()
    others = sum(getattr(w, n) for n in names if n != "topic")
    lines = ["| component | default weight | normalised | value |", "|---|---:|---:|---|"]
    for n in names:
        part = f"share {norm[n]:.2f}" if n == "topic" else f"{getattr(w, n) / others:.3f} of quality"
        lines.append(f"| `{n}` | {getattr(w, n):g} | {part} | {COMPONENT_VALUES[n]} |")
    return "\n".join(lines)


def block_engagement_benchmarks() -> str:
    """The published engagement benchmarks matcher falls back on, as ``matcher.signals`` has them."""
    from matcher.signals import ENGAGEMENT_BENCHMARKS, PER_VIEW_BENCHMARK

    tiers = list(next(iter(ENGAGEMENT_BENCHMARKS.values())))
    lines = ["| platform | " + " | ".join(tiers) + " |", "|---|" + "---:|" * len(tiers)]
    for platform, rates in ENGAGEMENT_BENCHMARKS.items():
        lines.append(f"| {platform} | " + " | ".join(f"{100 * rates[t]:g}%" for t in tiers) + " |")
    lines += ["", f"Other platforms take Instagram's; a rate per view (no follower count) is compared with {100 * PER_VIEW_BENCHMARK:g}%."]
    return "\n".join(lines)


# -- committed results -----------------------------------------------------------------------------

def results_section(name: str, heading: str) -> str | None:
    """The body of ``## heading`` in benchmarks/results/NAME (up to the next ``## ``), or None."""
    path = RESULTS / name
    if not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    try:
        start = lines.index(f"## {heading}") + 1
    except ValueError:
        return None
    body: list[str] = []
    for line in lines[start:]:
        if line.startswith("## "):
            break
        body.append(line)
    return "\n".join(body).strip()


def block_relevance() -> str:
    """The "Held-out halves" table of benchmarks/results/relevance.md, as committed."""
    body = results_section("relevance.md", "Held-out halves")
    if body is None:
        return ("*`benchmarks/results/relevance.md` has no \"Held-out halves\" section in this checkout: run "
                "`python benchmarks/relevance.py` (it needs the dev data), then `python docs/make_docs.py`.*")
    return body


#: What fills each ``<!-- generated: NAME -->`` block.
BLOCKS: dict[str, Callable[[], str]] = {
    "cli-table": block_cli_table,
    "weights": block_weights,
    "engagement-benchmarks": block_engagement_benchmarks,
    "relevance-held-out": block_relevance,
}

#: Pages generated in full.
PAGES: dict[str, Callable[[], str]] = {
    "docs/config.md": render_config,
    "docs/cli.md": render_cli,
    "docs/niches.md": lambda: runpy.run_path(str(ROOT / "docs" / "niches_table.py"))["render"](),
}


def doc_files() -> list[Path]:
    """README.md and every page under docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def fill_blocks(text: str, *, where: str = "") -> str:
    """``text`` with every generated block replaced by what generates it now."""
    out: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        m = BEGIN.match(line)
        i += 1
        if not m:
            continue
        if m.group(1) not in BLOCKS:
            raise SystemExit(f"{where}: unknown generated block {m.group(1)!r}; known: {', '.join(BLOCKS)}")
        while i < len(lines) and lines[i] != END:
            i += 1
        if i == len(lines):
            raise SystemExit(f"{where}: block {m.group(1)!r} has no '{END}' line")
        out += [BLOCKS[m.group(1)](), END]
        i += 1
    return "\n".join(out)


def expected() -> dict[Path, str]:
    """Every generated page and every page with generated blocks, as the generator writes them now."""
    pages = {ROOT / rel: render() for rel, render in PAGES.items()}
    for path in doc_files():
        if path in pages:
            continue
        text = path.read_text(encoding="utf-8")
        if any(BEGIN.match(line) for line in text.splitlines()):
            pages[path] = fill_blocks(text, where=str(path.relative_to(ROOT)))
    return pages


def stale() -> list[str]:
    """Pages whose committed text differs from what the generator writes now."""
    return [
        str(path.relative_to(ROOT))
        for path, text in expected().items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]


# -- checks of hand-written text ---------------------------------------------------------------------

def _hand_written(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) outside generated blocks and fenced code."""
    in_block = in_fence = False
    for no, line in enumerate(text.splitlines(), start=1):
        if BEGIN.match(line):
            in_block = True
        elif line == END:
            in_block = False
        elif line.startswith("```"):
            in_fence = not in_fence
        elif not in_block and not in_fence:
            yield no, line


def _pages_to_check() -> list[Path]:
    generated = {ROOT / rel for rel in PAGES}
    return [p for p in doc_files() if p not in generated]


DEFAULT_RE = re.compile(r"`([a-z_]+(?:\.[a-z_]+)?)` \(([^()]*)\)")
KEY_RE = re.compile(r"(?<![\w/.])`([a-z_]+\.[a-z_]+)`")
#: ``signals.parquet`` names a file, not a setting.
FILE_SUFFIXES = {"json", "parquet", "csv", "npy", "faiss", "sqlite", "toml", "md", "py", "html"}
NUMBER_RE = re.compile(r"^(-?[\d,]*\.?\d+)\s*(%)?")


def _same(written: str, default: Any) -> bool | None:
    """Whether a written default equals ``default``; None when the text is not a value."""
    written = written.strip()
    if isinstance(default, bool):
        word = written.split()[0].strip(",;").lower() if written else ""
        return {"true": True, "false": False}.get(word) == default if word in ("true", "false") else None
    if isinstance(default, (int, float)):
        m = NUMBER_RE.match(written)
        if not m:
            return None
        value = float(m.group(1).replace(",", ""))
        if m.group(2):
            value /= 100
        return abs(value - float(default)) <= 1e-9 * max(1.0, abs(float(default)))
    if isinstance(default, str):
        m = re.match(r'^`?"([^"]*)"', written)
        return (m.group(1) == default) if m else None
    return None


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def check_defaults(pages: Sequence[Path] | None = None) -> list[str]:
    """Defaults written as ```key` (value)`` that disagree with the code, and ```section.key``` that is no setting."""
    defaults = config_defaults()
    sections = {name for name, _, _ in _sections()}
    problems: list[str] = []
    for path in _pages_to_check() if pages is None else pages:
        rel = _rel(path)
        for no, line in _hand_written(path.read_text(encoding="utf-8")):
            for m in DEFAULT_RE.finditer(line):
                key, written = m.group(1), m.group(2)
                if key in defaults and _same(written, defaults[key]) is False:
                    problems.append(f"{rel}:{no}: `{key}` ({written}) but the default is {toml_value(defaults[key]) if not isinstance(defaults[key], dict) else defaults[key]}")
            for m in KEY_RE.finditer(line):
                key = m.group(1)
                if key.split(".")[0] in sections and key not in defaults and key.split(".")[1] not in FILE_SUFFIXES:
                    problems.append(f"{rel}:{no}: `{key}` is not a setting (see docs/config.md)")
    return problems


QUOTE_RE = re.compile(r"^<!-- quote: (benchmarks/results/[\w.-]+\.md) -->$")


def check_quotes(pages: Sequence[Path] | None = None) -> list[str]:
    """Table rows after ``<!-- quote: FILE -->`` that are not, verbatim, rows of FILE."""
    problems: list[str] = []
    for path in doc_files() if pages is None else pages:
        rel = _rel(path)
        source: Path | None = None
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            m = QUOTE_RE.match(line)
            if m:
                source = ROOT / m.group(1)
                if not source.is_file():
                    problems.append(f"{rel}:{no}: quotes {m.group(1)}, which does not exist")
                    source = None
                continue
            if source is None:
                continue
            if line.startswith("|"):
                if line not in source.read_text(encoding="utf-8").splitlines():
                    problems.append(f"{rel}:{no}: row not found verbatim in {_rel(source)}: {line}")
            elif line.strip():
                source = None
    return problems


#: A figure: a decimal (23.2, 0.981), a percentage (4%), a ratio (1.30x), a count with thousands
#: separators (63,649) or a whole number with a unit (149 GFLOP/s, 110 s).
FIGURE_RE = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|\d+(?=%)|\d+(?:\.\d+)?(?=x\b)"
    r"|\d+(?= ?(?:ms|s|min|kB|MB|MiB|GiB|B|GFLOP/s|texts/s|requests/s|tokens)\b))"
)
RESULTS_REF = re.compile(r"benchmarks/results/([\w.-]+\.md)")


def _paragraphs(lines: list[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """(first line number, text) of each paragraph or list item."""
    start, buf = 0, []
    for no, line in lines + [(0, "")]:
        new_item = re.match(r"^\s*(?:[-*]|\d+\.)\s", line) is not None
        if not line.strip() or new_item or line.startswith("|") or line.startswith("#"):
            if buf:
                yield start, " ".join(buf)
            buf = []
            if not line.strip() or line.startswith("|") or line.startswith("#"):
                continue
        if not buf:
            start = no
        buf.append(line.strip())


def check_figures(pages: Sequence[Path] | None = None) -> list[str]:
    """Figures in a paragraph naming benchmarks/results files that none of those files contains."""
    problems: list[str] = []
    for path in _pages_to_check() if pages is None else pages:
        rel = _rel(path)
        for no, para in _paragraphs(list(_hand_written(path.read_text(encoding="utf-8")))):
            names = RESULTS_REF.findall(para)
            if not names:
                continue
            texts = []
            for name in names:
                f = RESULTS / name
                if f.is_file():
                    texts.append(f.read_text(encoding="utf-8"))
            body = RESULTS_REF.sub("", para)
            for fig in FIGURE_RE.findall(body):
                forms = {fig, fig.replace(",", "")}
                patterns = [re.compile(rf"(?<![\d.,]){re.escape(f)}(?!\d|,\d|\.\d)") for f in forms]
                if not any(p.search(t) for p in patterns for t in texts):
                    problems.append(f"{rel}:{no}: {fig} is not in {', '.join('benchmarks/results/' + n for n in names)}")
    return problems


SEVERITY_ROW = re.compile(r"^\| `([A-Z_]+)` \| (severe|major|minor) \|")


def check_severity(pages: Sequence[Path] | None = None) -> list[str]:
    """Table rows ``| `CODE` | severity |`` whose severity is not ``matcher.signals.SEVERITY``'s."""
    from matcher.signals import SEVERITY

    problems: list[str] = []
    for path in _pages_to_check() if pages is None else pages:
        rel = _rel(path)
        for no, line in _hand_written(path.read_text(encoding="utf-8")):
            m = SEVERITY_ROW.match(line)
            if m and SEVERITY.get(m.group(1)) != m.group(2):
                problems.append(f"{rel}:{no}: {m.group(1)} is {SEVERITY.get(m.group(1), 'not graded')} in matcher.signals.SEVERITY, not {m.group(2)}")
    return problems


LINK_RE = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def anchors(text: str) -> set[str]:
    """GitHub's anchors for the headings of a Markdown page."""
    seen: dict[str, int] = {}
    out: set[str] = set()
    in_fence = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
        m = re.match(r"^#{1,6}\s+(.+?)\s*#*$", line)
        if in_fence or not m:
            continue
        slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def check_links(pages: Sequence[Path] | None = None) -> list[str]:
    """Relative links in README.md and docs/*.md that point to no file, or to no heading in it."""
    problems: list[str] = []
    for path in doc_files() if pages is None else pages:
        rel = _rel(path)
        text = path.read_text(encoding="utf-8")
        in_fence = False
        for no, line in enumerate(text.splitlines(), start=1):
            if line.startswith("```"):
                in_fence = not in_fence
            if in_fence:
                continue
            for target in LINK_RE.findall(line):
                if re.match(r"^[a-z]+:", target):
                    continue
                file_part, _, anchor = target.partition("#")
                dest = (path.parent / file_part).resolve() if file_part else path
                if not dest.exists():
                    problems.append(f"{rel}:{no}: link to {target}: no such file")
                elif anchor and (dest.suffix != ".md" or anchor not in anchors(dest.read_text(encoding="utf-8"))):
                    problems.append(f"{rel}:{no}: link to {target}: no heading #{anchor} in {_rel(dest)}")
    return problems


def problems() -> list[str]:
    """Everything the docs test checks."""
    out = [f"{p}: stale; run python docs/make_docs.py" for p in stale()]
    return out + check_defaults() + check_severity() + check_quotes() + check_figures() + check_links()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 on any problem")
    args = parser.parse_args(argv)
    if not args.check:
        for path, text in expected().items():
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
                print(f"wrote {path.relative_to(ROOT)}")
    found = problems()
    for p in found:
        print(p, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
