"""Read and validate the input tables; quarantine bad rows with actionable reasons.

The tables are creators, posts and brands (the matching inputs), comments (an optional
sample of the comments under the posts) and outcomes (results of past campaigns, read on
their own to learn how much each ranking signal matters).

Each table is read from a path or an fsspec URL (``s3://bucket/creators.csv``, fetched once to a
local temporary file by :mod:`matcher.fetch`), as one file or a folder of part files (its rows
in part name order; the quarantine report names each part and the record number within it), from
CSV (``.csv``, ``.csv.gz``; comma, semicolon, tab or pipe delimited, whichever the header line
uses), JSON Lines (``.jsonl``, ``.ndjson``, optionally ``.gz``) or Parquet (``.parquet``),
chosen by the file's extension. A file that cannot be read at all raises one
:class:`~matcher.errors.InputFileError`. A bad value costs that value, not the row: an
unreadable *optional* value (a count, a flag, a time, a country, a language, a list where text
belongs) is blanked, the row is kept, and the cell is reported as a :class:`Rejection` with
``action="blanked"``. A row whose *required* value is missing or bad (its id, the creator of a
post, a brand's description, an outcome) is quarantined (``action="rejected"``), naming its
first offending field in the table's column order, and the good rows go on; so for every table
``accepted + quarantined == read``, where only rejected rows count as quarantined. A brand's
filters (countries, languages, follower band, exclusions) are not blanked but reject the brand:
a blanked filter would match the brand with creators it ruled out.

Countries and languages are read through :func:`matcher.codes.country_code` and
:func:`matcher.codes.language_code`, so names and variants (``U.S.A``, ``Deutschland``,
``English``, ``pt_BR``) become ISO codes.

A table is converted part by part (a file is one part): each part's values parsed, its rows
checked against the tables loaded before it, and its bad values reported, on its own, where
``map_parts`` runs it (in this process by default; a Ray task each for the Ray engine). What
needs the whole table, the duplicate ids and the report, is settled once its parts are back, so
a table gives the same rows and the same report whether it came as one file or in parts, and
wherever its parts were converted.

Duplicate ids are resolved among the rows that pass every other check: the first of them in
file order is kept and the later ones are quarantined, naming the kept row. An outcome's
id is its (brand_id, creator_id, date) triple.

Row numbers in rejections are 1-based data-record numbers: the first record after the CSV
header (or the first JSON object, or the first Parquet row) is row 1. For a CSV file without
blank lines or multi-line quoted fields this is the line number minus 1 for the header; for
JSON Lines, blank lines are not counted.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import re
import warnings
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from matcher.codes import COUNTRY_HINT, LANGUAGE_HINT, country_code, language_code
from matcher.errors import ConfigError, InputFileError
from matcher.fetch import FetchedFile, fetched_copy, is_url, part_files
from matcher.text import normalize_series, normalize_text, spreadsheet_safe_frame, strip_controls

__all__ = [
    "Rejection",
    "TableReport",
    "Dataset",
    "read_table",
    "table_format",
    "load_creators",
    "load_posts",
    "load_brands",
    "load_comments",
    "load_outcomes",
    "load_dataset",
    "PartFile",
    "PartMap",
    "quarantine_frame",
    "write_quarantine",
    "CSV_DELIMITERS",
    "CREATOR_COLUMNS",
    "POST_COLUMNS",
    "BRAND_COLUMNS",
    "COMMENT_COLUMNS",
    "OUTCOME_COLUMNS",
    "REJECTED",
    "BLANKED",
]

logger = logging.getLogger(__name__)

_FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".jsonl": "jsonl",
    ".jsonl.gz": "jsonl",
    ".ndjson": "jsonl",
    ".ndjson.gz": "jsonl",
    ".parquet": "parquet",
}

CREATOR_COLUMNS: tuple[str, ...] = (
    "creator_id",
    "handle",
    "platform",
    "bio",
    "followers",
    "following",
    "country",
    "language",
)
POST_COLUMNS: tuple[str, ...] = (
    "post_id",
    "creator_id",
    "text",
    "posted_at",
    "likes",
    "comments",
    "views",
    "shares",
    "sponsored",
    "sponsor",
)
BRAND_COLUMNS: tuple[str, ...] = (
    "brand_id",
    "name",
    "description",
    "countries",
    "languages",
    "competitors",
    "exclude_creators",
    "min_followers",
    "max_followers",
)
COMMENT_COLUMNS: tuple[str, ...] = (
    "comment_id",
    "post_id",
    "author_id",
    "text",
    "created_at",
    "is_creator_reply",
)
OUTCOME_COLUMNS: tuple[str, ...] = (
    "brand_id",
    "creator_id",
    "outcome",
    "date",
    "price",
)

# Above 2**53 a float no longer holds every whole number, and no real count gets near it.
_MAX_COUNT = 2**53
# Epoch seconds that fit datetime64[ns].
_MIN_EPOCH = pd.Timestamp.min.value / 1e9
_MAX_EPOCH = pd.Timestamp.max.value / 1e9
_EPOCH_RE = r"[+-]?\d+(?:\.\d*)?"
_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")
_SHOW_LIMIT = 60


#: A required value is bad: the row is left out.
REJECTED = "rejected"
#: An optional value is unreadable: it is left blank and the row is kept.
BLANKED = "blanked"


@dataclass(frozen=True)
class Rejection:
    """One entry of the quarantine report: a rejected row or a blanked value.

    :param file: the input path as it was given.
    :param row: 1-based data-record number (CSV: line number minus 1 for the header).
    :param id: the row's id, or ``None`` if it has none.
    :param field: the first offending field of a rejected row, or the blanked field.
    :param reason: what is wrong and how to fix it.
    :param action: ``"rejected"`` (the row was left out) or ``"blanked"`` (the value was left
        blank and the row kept).
    """

    file: str
    row: int
    id: str | None
    field: str
    reason: str
    action: str = REJECTED


@dataclass(frozen=True)
class TableReport:
    """Counts for one table read; ``accepted + quarantined == read``.

    :param name: ``"creators"``, ``"posts"``, ``"brands"``, ``"comments"`` or ``"outcomes"``.
    :param path: the input path (or folder) as it was given.
    :param read: data records in the file (a folder's: in all its parts).
    :param accepted: rows in the output frame.
    :param quarantined: rows rejected, duplicates included.
    :param duplicates: rows rejected because an earlier row had the same id (for outcomes:
        the same brand_id, creator_id and date).
    :param blanked: unreadable optional values left blank in accepted rows (each one is in
        the quarantine report with ``action="blanked"``).
    :param files: the files read, as the quarantine report names them: ``(path,)``, or a
        folder's parts.
    """

    name: str
    path: str
    read: int
    accepted: int
    quarantined: int
    duplicates: int
    blanked: int = 0
    files: tuple[str, ...] = ()


# The report's columns: the action before the reason, so a reader sees what happened first.
_QUARANTINE_COLUMNS: tuple[str, ...] = ("file", "row", "id", "field", "action", "reason")


# eq=False: comparing DataFrames with == has no single truth value.
@dataclass(frozen=True, eq=False)
class Dataset:
    """The validated tables with everything that was quarantined on the way.

    :param creators: accepted creators, columns :data:`CREATOR_COLUMNS` then extras.
    :param posts: accepted posts, columns :data:`POST_COLUMNS` then extras.
    :param brands: accepted brands, columns :data:`BRAND_COLUMNS` then extras, or ``None``.
    :param rejections: every rejected row and blanked value, in table then row order
        (creators, posts, brands, comments).
    :param reports: one report per table read, in the same order.
    :param comments: accepted comments, columns :data:`COMMENT_COLUMNS` then extras, or
        ``None`` when no comments file was given.
    """

    creators: pd.DataFrame
    posts: pd.DataFrame
    brands: pd.DataFrame | None
    rejections: tuple[Rejection, ...]
    reports: tuple[TableReport, ...]
    comments: pd.DataFrame | None = None

    def quarantine_frame(self) -> pd.DataFrame:
        """Return the rejections as a frame with columns file, row, id, field, action, reason."""
        return quarantine_frame(self.rejections)


# --------------------------------------------------------------------------- reading


def _format_of(path: Path, shown: str) -> str:
    name = path.name.lower()
    for suffix in sorted(_FORMATS, key=len, reverse=True):
        if name.endswith(suffix):
            return _FORMATS[suffix]
    supported = ", ".join(_FORMATS)
    found = "".join(path.suffixes[-2:]) or "no extension"
    raise InputFileError(
        f"{shown}: unknown file type ({found}); supported extensions are {supported} "
        "(a folder of part files: a directory, or a URL ending in '/')"
    )


def _open_binary(path: Path) -> IO[bytes]:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


def _not_utf8(path: Path, shown: str) -> InputFileError:
    where = ""
    try:
        with _open_binary(path) as handle:
            for line_no, raw in enumerate(handle, start=1):
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    where = (
                        f" (line {line_no}, column {exc.start + 1}: byte 0x{raw[exc.start]:02x})"
                    )
                    break
    except (OSError, EOFError, zlib.error):
        pass  # the original decoding error is reported without a position
    return InputFileError(
        f"{shown}: the file is not UTF-8 text{where}, perhaps Latin-1 or Windows-1252; "
        "re-save it as UTF-8"
    )


#: Field delimiters a CSV file may use; the header line decides which (a comma when it has none).
CSV_DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def _sniff_delimiter(path: Path) -> str:
    """The delimiter the header line uses most often (outside quotes), a comma on a tie or none."""
    try:
        with _open_binary(path) as handle:
            first = handle.readline(1 << 20).decode("utf-8-sig", errors="replace")
    except (OSError, EOFError, zlib.error):
        return ","  # the read itself reports the problem
    unquoted = re.sub(r'"[^"]*"', "", first)
    counts = {d: unquoted.count(d) for d in CSV_DELIMITERS}
    best = max(CSV_DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _read_csv(path: Path, shown: str) -> pd.DataFrame:
    # Spreadsheets in many locales save "CSV" with semicolons; tab- and pipe-separated exports exist too.
    sep = _sniff_delimiter(path)
    named = f"{_DELIMITER_NAMES[sep]} ({sep!r})"
    if sep != ",":
        logger.info("%s: reading with %s as the field delimiter, as its header line uses it", shown, named)
    try:
        with warnings.catch_warnings():
            # pandas only warns (and drops data) when the first row has more fields than
            # the header; that is a broken file, not a detail.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                path,
                sep=sep,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                index_col=False,
                encoding="utf-8-sig",
                compression="infer",
            )
    except UnicodeDecodeError:
        raise _not_utf8(path, shown) from None
    except pd.errors.EmptyDataError:
        raise InputFileError(f"{shown}: the file is empty; it needs a header row of column names") from None
    except pd.errors.ParserWarning:
        raise InputFileError(
            f"{shown}: a row has more fields than the header (read with the {named} delimiter of the "
            f"header line); quote fields that contain {_DELIMITER_NAMES[sep]}s"
        ) from None
    except pd.errors.ParserError as exc:
        detail = str(exc).replace("Error tokenizing data. C error: ", "").strip()
        raise InputFileError(
            f"{shown}: not valid CSV ({detail}; read with the {named} delimiter of the header line); "
            f"check quoting - fields with {_DELIMITER_NAMES[sep]}s, quotes or line breaks must be in "
            "double quotes, and every line must use the header's delimiter"
        ) from None
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        raise InputFileError(f"{shown}: cannot be read as CSV ({exc})") from None
    if any(re.fullmatch(r".+\.\d+", str(c)) for c in frame.columns):
        # pandas renames a repeated header "x" to "x.1"; find out whether that happened.
        header = pd.read_csv(
            path, sep=sep, header=None, nrows=1, dtype=str, keep_default_na=False, encoding="utf-8-sig"
        )
        _check_unique_columns([str(v) for v in header.iloc[0]], shown)
    return frame


def _object_column(values: list[object]) -> pd.Series:
    column = pd.Series(values, dtype=object)
    kind = pd.api.types.infer_dtype(column, skipna=True)
    # Pick dtypes from the values themselves: letting pandas infer would turn an integer
    # column with a null into floats, so id 7 would come back as "7.0".
    if kind == "string":
        return column.astype("string")
    if kind == "boolean":
        return column.astype("boolean")
    if kind == "integer":
        try:
            return column.astype("Int64")
        except (OverflowError, TypeError, ValueError):
            return column  # beyond int64: keep the exact Python ints
    if kind in ("floating", "mixed-integer-float"):
        return column.astype("float64")
    return column


_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _replace_lone_surrogates(value: object) -> object:
    # JSON may escape half of a surrogate pair ("\ud800"); such text cannot be stored or
    # written as UTF-8, so it becomes U+FFFD like any other undecodable character.
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_replace_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_replace_lone_surrogates(k): _replace_lone_surrogates(v) for k, v in value.items()}
    return value


def _read_jsonl(path: Path, shown: str) -> pd.DataFrame:
    records: list[dict[str, object]] = []
    try:
        with _open_binary(path) as handle:
            for line_no, raw in enumerate(handle, start=1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise _not_utf8(path, shown) from None
                if line_no == 1:
                    line = line.removeprefix("\ufeff")
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputFileError(
                        f"{shown}: line {line_no} is not valid JSON ({exc.msg} at column {exc.colno}); "
                        "each line must be one JSON object"
                    ) from None
                if not isinstance(record, dict):
                    raise InputFileError(
                        f"{shown}: line {line_no} is a JSON {type(record).__name__}, not an object; "
                        'each line must be one JSON object such as {"id": "c1", ...}'
                    )
                if _ESCAPED_SURROGATE.search(line):
                    record = _replace_lone_surrogates(record)
                records.append(record)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputFileError(f"{shown}: cannot be read ({exc})") from None
    if not records:
        raise InputFileError(f"{shown}: the file is empty; it needs one JSON object per line")
    names: dict[str, None] = {}
    for record in records:
        for key in record:
            names.setdefault(key, None)
    _check_unique_columns([str(k) for k in names], shown)
    return pd.DataFrame(
        {str(name): _object_column([r.get(name) for r in records]) for name in names}
    )


def _read_parquet(path: Path, shown: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(path, dtype_backend="numpy_nullable")
    except (pa.ArrowException, OSError, ValueError, TypeError, NotImplementedError) as exc:
        raise InputFileError(f"{shown}: cannot be read as Parquet ({type(exc).__name__}: {exc})") from None


def _check_unique_columns(names: Sequence[str], shown: str) -> None:
    seen: set[str] = set()
    for name in names:
        key = name.strip()
        if key in seen:
            raise InputFileError(
                f"{shown}: the column {key!r} appears more than once; remove or rename the copies"
            )
        seen.add(key)


def table_format(path: str | Path) -> str:
    """The format a table is read as, from its name: ``"csv"``, ``"jsonl"`` or ``"parquet"``; or
    ``"folder"`` for a folder of part files (a directory, or a URL ending in ``/``).

    :param path: a path or URL whose name ends in one of the extensions :func:`read_table` reads.
    :raises InputFileError: if the extension is none of them.
    """
    shown = str(path)
    if shown.endswith("/") if is_url(shown) else Path(path).is_dir():
        return "folder"
    return _format_of(Path(shown), shown)


class _Parts:
    """Where the rows of a table came from: one file, or the parts of a folder, in order."""

    def __init__(self, names: Sequence[str], rows: Sequence[int]) -> None:
        self.names = list(names)
        self.starts = np.concatenate([[0], np.cumsum(rows, dtype=np.int64)])

    def file_row(self, i: int) -> tuple[str, int]:
        """The file (as shown) and 1-based record number of the table's row ``i`` (0-based)."""
        k = int(np.searchsorted(self.starts, i, side="right")) - 1
        return self.names[k], i - int(self.starts[k]) + 1

    def row_name(self, i: int) -> str:
        """``row N``, or ``row N of PART`` when the table has several parts."""
        name, row = self.file_row(i)
        return f"row {row}" if len(self.names) == 1 else f"row {row} of {name.rsplit('/', 1)[-1]}"


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a table as it is, without validating its rows.

    CSV values are read as strings (``""`` for blank), so ids like ``007`` keep their
    leading zeros; column names are stripped of surrounding whitespace. A CSV file's field
    delimiter (one of :data:`CSV_DELIMITERS`) is the one its header line uses most.

    :param path: a ``.csv``, ``.csv.gz``, ``.jsonl``, ``.ndjson`` (optionally ``.gz``) or
        ``.parquet`` file, or a folder of part files of one of these formats (their rows in
        part name order; see :mod:`matcher.fetch`), as a path or an fsspec URL (``s3://...``:
        fetched to a temporary folder first, which needs the ``s3`` extra; a folder's URL ends in ``/``).
    :returns: the raw frame with a RangeIndex.
    :raises InputFileError: if the file is missing, of an unknown type, not UTF-8, empty,
        unparseable or has a repeated column name; if a folder's parts differ in format or (CSV,
        Parquet) in columns; or if its URL cannot be fetched.
    """
    with _table_parts(path) as parts:
        frames = [p.read() for p in parts]
    _check_part_columns(str(path), parts, [list(f.columns) for f in frames])
    if len(frames) == 1:
        return frames[0]
    frame = pd.concat(frames, ignore_index=True)
    logger.info("%s: read %d row(s) from %d part(s)", path, len(frame), len(parts))
    return frame


def _read_file(file: Path, shown: str, fmt: str) -> pd.DataFrame:
    if not file.exists():
        raise InputFileError(f"{shown}: file not found; check the path")
    if not file.is_file():
        raise InputFileError(f"{shown}: is not a regular file")
    if fmt == "csv":
        frame = _read_csv(file, shown)
    elif fmt == "jsonl":
        frame = _read_jsonl(file, shown)
    else:
        frame = _read_parquet(file, shown)
    names = [str(c).strip() for c in frame.columns]
    _check_unique_columns(names, shown)
    frame.columns = names
    return frame.reset_index(drop=True)


@dataclass(frozen=True)
class PartFile:
    """One file of a table, as a task reads it: the whole table, or one part of its folder.

    :param shown: its name in errors and in the quarantine report (a fetched part's: its URL).
    :param local: the file to read.
    :param fmt: ``"csv"``, ``"jsonl"`` or ``"parquet"``.
    :param url: where it was fetched from, or ``None`` for a path the user gave.
    :param sha256: the hex SHA-256 of the bytes fetched from ``url``.

    A task on another machine, where ``local`` does not exist, fetches ``url`` itself and reads it
    only if its bytes are the ones the run fingerprinted (``sha256``).
    """

    shown: str
    local: str
    fmt: str
    url: str | None = None
    sha256: str | None = None

    def read(self) -> pd.DataFrame:
        """The file's raw frame (see :func:`read_table`)."""
        if self.url is None or Path(self.local).exists():
            return _read_file(Path(self.local), self.shown, self.fmt)
        with fetched_copy(self.url) as got:
            if self.sha256 is not None and got.sha256 != self.sha256:
                raise InputFileError(
                    f"{self.shown}: changed since the run fetched it (SHA-256 {got.sha256[:12]}..., "
                    f"not {self.sha256[:12]}...); leave the inputs in place while a batch runs, then run it again"
                )
            return _read_file(got.path, self.shown, self.fmt)


def _folder_parts(folder: Path, shown: str, *, url: str | None = None, digests: Mapping[str, str] | None = None) -> list[PartFile]:
    """The part files of a local table folder, in name order, all of one format.

    ``url`` and ``digests`` (each part's SHA-256 by name): the folder was fetched from there.
    """
    base = shown.rstrip("/")
    files = part_files(folder, shown)
    parts = [
        PartFile(
            f"{base}/{p.name}", str(p), _format_of(p, f"{base}/{p.name}"),
            None if url is None else f"{url.rstrip('/')}/{p.name}", None if digests is None else digests.get(p.name),
        )
        for p in files
    ]
    if len({p.fmt for p in parts}) > 1:
        found = ", ".join(f"{p.shown.rsplit('/', 1)[-1]} ({p.fmt})" for p in parts[:6])
        raise InputFileError(f"{shown}: its parts are of different formats ({found}); a table's parts share one format")
    return parts


def _check_part_columns(shown: str, parts: Sequence[PartFile], columns: Sequence[Sequence[str]]) -> None:
    """CSV and Parquet parts have one schema; JSON Lines records may each have their own keys."""
    if parts[0].fmt == "jsonl":
        return
    first = list(columns[0])
    for part, names in zip(parts[1:], columns[1:]):
        if set(names) != set(first):
            extra, lacking = sorted(set(names) - set(first)), sorted(set(first) - set(names))
            raise InputFileError(
                f"{part.shown}: its columns differ from those of {parts[0].shown.rsplit('/', 1)[-1]} "
                f"(extra: {extra or 'none'}; lacking: {lacking or 'none'}); every part of a table has the same columns"
            )


# ------------------------------------------------------------------ value conversion


def _is_missing_scalar(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and bool(np.isnan(value))


def _scalar_text(value: object) -> object:
    if isinstance(value, str):
        return value
    if _is_missing_scalar(value):
        return None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        number = float(value)
        if number.is_integer():
            return str(int(number))
        return repr(number)
    if isinstance(value, list | tuple | dict | set | np.ndarray):
        return _NOT_SCALAR
    return str(value)


class _NotScalar:
    pass


_NOT_SCALAR = _NotScalar()


def _text_view(column: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Return a column as stripped ``"string"`` values (NA when blank) and a non-scalar mask."""
    n = len(column)
    nonscalar = np.zeros(n, dtype=bool)
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        view = column.astype("boolean").map({True: "true", False: "false"}).astype("string")
    elif pd.api.types.is_integer_dtype(dtype):
        view = column.astype("string")
    elif pd.api.types.is_float_dtype(dtype):
        values = column.to_numpy(dtype=float, na_value=np.nan)
        whole = np.isfinite(values) & (np.floor(values) == values) & (np.abs(values) < 2**63)
        out = column.astype("string").to_numpy(dtype=object, na_value=None)
        out[whole] = values[whole].astype(np.int64).astype(str)
        view = pd.Series(out, index=column.index, dtype="string")
    elif pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        view = column.astype("string")
    elif isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        view = column.astype("string")
    elif pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty"):
        # Plain strings in an object column (CSV under pandas 2): convert in one step.
        view = column.astype("string")
    else:
        converted = [_scalar_text(v) for v in column.tolist()]
        nonscalar = np.fromiter((v is _NOT_SCALAR for v in converted), dtype=bool, count=n)
        view = pd.Series(
            [None if v is _NOT_SCALAR else v for v in converted], index=column.index, dtype="string"
        )
    view = view.str.strip()
    view = view.mask(view == "")
    return view, nonscalar


def _show(text: object) -> str:
    value = str(text)
    if len(value) > _SHOW_LIMIT:
        value = value[: _SHOW_LIMIT - 3] + "..."
    return f"'{value}'"


def _show_number(text: object) -> str:
    value = str(text)
    if re.fullmatch(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", value):
        return value
    return _show(value)


class _Quarantine:
    """Keeps the first offending field and reason of each rejected row, and every blanked value."""

    def __init__(self, n: int, parts: _Parts) -> None:
        self.parts = parts  # where each row came from
        self.field = np.full(n, None, dtype=object)
        self.reason = np.full(n, None, dtype=object)
        self.duplicates = 0
        self.blanked: list[tuple[np.ndarray, str, list[str]]] = []

    @property
    def ok(self) -> np.ndarray:
        return np.equal(self.field, None)

    def flag(self, mask: np.ndarray | pd.Series, field: str, reason: Callable[[int], str]) -> None:
        bad = np.asarray(mask, dtype=bool) & self.ok
        rows = np.flatnonzero(bad)
        if rows.size:
            self.field[rows] = field
            # Building messages row by row is fine: this runs only for the bad rows.
            self.reason[rows] = [reason(int(i)) for i in rows]

    def blank(self, mask: np.ndarray | pd.Series, field: str, reason: Callable[[int], str]) -> None:
        """Report unreadable optional values; the caller leaves them blank and the rows stay."""
        rows = np.flatnonzero(np.asarray(mask, dtype=bool))
        if rows.size:
            self.blanked.append((rows, field, [reason(int(i)) for i in rows]))

    def report(
        self, mask: np.ndarray | pd.Series, field: str, reason: Callable[[int], str], *, reject: bool
    ) -> None:
        """:meth:`flag` the rows when ``reject``, else :meth:`blank` the values."""
        (self.flag if reject else self.blank)(mask, field, reason)


def _to_mask(values: pd.Series) -> np.ndarray:
    return values.fillna(False).to_numpy(dtype=bool)


def _id_column(raw: pd.Series, field: str, blank_reason: str, q: _Quarantine) -> pd.Series:
    view, nonscalar = _text_view(raw)
    # Control characters (a NUL, an ANSI escape, a bidi override) never belong in an id: they
    # corrupt terminals, logs and CSV exports. What is left of the id is kept; nothing left is blank.
    stripped = view.map(strip_controls, na_action="ignore").astype("string")
    if (stripped != view).fillna(False).any():
        view = stripped.str.strip()
        view = view.mask(view == "")
    q.flag(nonscalar, field, lambda i: f"'{field}' is a list or object; it must be a single id")
    q.flag(view.isna().to_numpy() & ~nonscalar, field, lambda i: blank_reason)
    return view


def _parse_numbers(view: pd.Series) -> np.ndarray:
    """Return ``view`` parsed as floats, NaN where blank or not a number."""
    numbers = np.full(len(view), np.nan)
    # Plain digit strings, the bulk of every count column, take a fast vectorised cast;
    # only the rest goes through the general (and much slower) parser.
    plain = _to_mask(view.str.fullmatch(r"\d{1,15}"))
    if plain.any():
        numbers[plain] = view[plain].astype("int64").to_numpy(dtype=float)
    rest = view.notna().to_numpy() & ~plain
    if rest.any():
        numbers[rest] = pd.to_numeric(view[rest], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
    return numbers


def _count_column(raw: pd.Series, field: str, q: _Quarantine, *, reject: bool = False) -> pd.Series:
    """A whole number >= 0 as Int64; a bad value is blanked, or rejects the row when ``reject``."""
    view, nonscalar = _text_view(raw)
    numbers = _parse_numbers(view)
    present = view.notna().to_numpy()
    with np.errstate(invalid="ignore"):
        malformed = present & (
            ~np.isfinite(numbers) | (numbers < 0) | (np.floor(numbers) != numbers)
        )
        huge = present & ~malformed & (numbers > _MAX_COUNT)
    values = view.to_numpy(dtype=object, na_value=None)
    q.report(
        nonscalar,
        field,
        lambda i: f"'{field}' is a list or object; counts must be whole numbers >= 0",
        reject=reject,
    )
    q.report(
        malformed,
        field,
        lambda i: f"'{field}' is {_show_number(values[i])}; counts must be whole numbers >= 0",
        reject=reject,
    )
    q.report(
        huge,
        field,
        lambda i: f"'{field}' is {_show_number(values[i])}, larger than any real count; check the column",
        reject=reject,
    )
    good = present & ~malformed & ~huge
    numbers = np.where(good, numbers, np.nan)
    return pd.Series(numbers, index=raw.index).astype("Int64")


def _flag_column(raw: pd.Series, field: str, q: _Quarantine) -> pd.Series:
    """An optional true/false value; an unreadable one is blanked."""
    view, nonscalar = _text_view(raw)
    lowered = view.str.lower()
    truthy = _to_mask(lowered.isin(_TRUE))
    falsy = _to_mask(lowered.isin(_FALSE))
    present = view.notna().to_numpy()
    values = view.to_numpy(dtype=object, na_value=None)
    q.blank(nonscalar, field, lambda i: f"'{field}' is a list or object; write true or false")
    q.blank(
        present & ~truthy & ~falsy,
        field,
        lambda i: f"'{field}' is {_show(values[i])}; write true/false, yes/no or 1/0, or leave it blank",
    )
    out = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    out[truthy] = True
    out[falsy] = False
    return out


#: The longest sponsor name kept: a brand's name, not a caption.
MAX_SPONSOR_CHARS = 100


def _sponsor_column(raw: pd.Series, field: str, q: _Quarantine) -> pd.Series:
    """The optional paid-partnership sponsor: a brand name (several separated by ``|``), NA when blank.

    A list or object, a value with no letter or digit, a yes/no value (the flag belongs in
    ``sponsored``) or a name longer than :data:`MAX_SPONSOR_CHARS` is blanked; the row stays.
    """
    nonscalar = _flag_nonscalar(raw, field, q)
    text = normalize_series(raw.mask(nonscalar, None) if nonscalar.any() else raw, max_chars=4 * MAX_SPONSOR_CHARS)
    text = text.astype("string").str.strip()
    text = text.mask(text == "")
    values = text.to_numpy(dtype=object, na_value=None)
    present = text.notna().to_numpy()
    lowered = text.str.lower()
    yes_no = _to_mask(lowered.isin(_TRUE) | lowered.isin(_FALSE))
    no_name = present & ~_to_mask(text.str.contains(r"[^\W_]", regex=True))
    too_long = present & _to_mask(text.str.len() > MAX_SPONSOR_CHARS)
    fix = "write the sponsoring brand's name (several separated by |), or leave it blank"
    q.blank(present & yes_no, field, lambda i: f"'{field}' is {_show(values[i])}, a yes/no value: put the flag in 'sponsored', and here {fix}")
    q.blank(present & no_name & ~yes_no, field, lambda i: f"'{field}' is {_show(values[i])}, which names no brand; {fix}")
    q.blank(
        present & too_long & ~no_name & ~yes_no,
        field,
        lambda i: f"'{field}' is {len(values[i])} characters, longer than a brand name ({MAX_SPONSOR_CHARS}); {fix}",
    )
    return text.mask(yes_no | no_name | too_long)


_TIME_DTYPE = "datetime64[ns, UTC]"
_TIME_EXAMPLE = "write e.g. 2026-10-03T14:22:00Z"


def _within_ns(parsed: pd.Series) -> np.ndarray:
    """Return which parsed UTC times fit datetime64[ns] (years 1677-2262)."""
    lowest = pd.Timestamp.min.tz_localize("UTC")
    highest = pd.Timestamp.max.tz_localize("UTC")
    return _to_mask(parsed.notna() & (parsed >= lowest) & (parsed <= highest))


def _time_column(raw: pd.Series, field: str, q: _Quarantine) -> pd.Series:
    """An optional UTC time; an unreadable or out-of-range one is blanked."""
    out = pd.Series(pd.NaT, index=raw.index, dtype=_TIME_DTYPE)
    if isinstance(raw.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(raw.dtype):
        # Parquet timestamps: one without a zone is taken as UTC, like an ISO string
        # without an offset.
        parsed = raw.dt.tz_convert("UTC") if raw.dt.tz is not None else raw.dt.tz_localize("UTC")
        fits = _within_ns(parsed)
        out[fits] = parsed[fits].astype(_TIME_DTYPE)
        shown = raw.astype("string").to_numpy(dtype=object, na_value=None)
        q.blank(
            parsed.notna().to_numpy() & ~fits,
            field,
            lambda i: f"'{field}' {_show(shown[i])} is outside the years 1678-2261; {_TIME_EXAMPLE}",
        )
        return out
    view, nonscalar = _text_view(raw)
    present = view.notna().to_numpy()
    epoch = present & _to_mask(view.str.fullmatch(_EPOCH_RE))
    iso = present & ~epoch
    seconds = np.full(len(view), np.nan)
    if epoch.any():
        seconds[epoch] = _parse_numbers(view[epoch])
    with np.errstate(invalid="ignore"):
        epoch_ok = epoch & (seconds >= _MIN_EPOCH) & (seconds <= _MAX_EPOCH)
    if epoch_ok.any():
        # Whole nanoseconds from the float keep sub-second epochs instead of truncating them.
        nanos = np.round(seconds[epoch_ok] * 1e9).astype(np.int64)
        out[epoch_ok] = pd.to_datetime(nanos, unit="ns", utc=True)
    unparsed = np.zeros(len(raw), dtype=bool)
    iso_far = np.zeros(len(raw), dtype=bool)
    if iso.any():
        parsed = pd.to_datetime(view[iso], format="ISO8601", utc=True, errors="coerce")
        fits = _within_ns(parsed)
        unparsed[iso] = parsed.isna().to_numpy()
        iso_far[iso] = parsed.notna().to_numpy() & ~fits
        out[parsed.index[fits]] = parsed[fits].astype(_TIME_DTYPE)
    values = view.to_numpy(dtype=object, na_value=None)

    def epoch_reason(i: int) -> str:
        hint = " (milliseconds? divide by 1000)" if abs(seconds[i]) > 1e11 else ""
        return (
            f"'{field}' {_show_number(values[i])} is out of range for epoch seconds{hint}; "
            f"{_TIME_EXAMPLE}"
        )

    q.blank(nonscalar, field, lambda i: f"'{field}' is a list or object; {_TIME_EXAMPLE}")
    q.blank(epoch & ~epoch_ok, field, epoch_reason)
    q.blank(
        iso_far,
        field,
        lambda i: f"'{field}' {_show(values[i])} is outside the years 1678-2261; {_TIME_EXAMPLE}",
    )
    q.blank(
        unparsed,
        field,
        lambda i: f"'{field}' {_show(values[i])} is neither ISO-8601 nor epoch seconds; {_TIME_EXAMPLE}",
    )
    return out


def _flag_nonscalar(raw: pd.Series, field: str, q: _Quarantine, *, reject: bool = False) -> np.ndarray:
    """Report lists and objects where text belongs; returns where they are."""
    if not pd.api.types.is_object_dtype(raw.dtype):
        return np.zeros(len(raw), dtype=bool)
    nonscalar = np.fromiter(
        (isinstance(v, list | tuple | dict | set | np.ndarray) for v in raw.tolist()),
        dtype=bool,
        count=len(raw),
    )
    q.report(nonscalar, field, lambda i: f"'{field}' is a list or object; write plain text", reject=reject)
    return nonscalar


def _text_column(
    raw: pd.Series, field: str, max_chars: int, q: _Quarantine, *, reject: bool = False
) -> pd.Series:
    """Normalised text; a list or object is blanked, or rejects the row when ``reject``."""
    nonscalar = _flag_nonscalar(raw, field, q, reject=reject)
    text = normalize_series(raw, max_chars=max_chars)
    return text.mask(nonscalar, "") if nonscalar.any() else text


def _repeated_text_column(raw: pd.Series, field: str, max_chars: int, q: _Quarantine) -> pd.Series:
    """Like :func:`_text_column` for a column whose values repeat a lot (comments): each
    distinct value is normalised once."""
    nonscalar = _flag_nonscalar(raw, field, q)
    if nonscalar.any():
        raw = raw.mask(nonscalar, None)
    if pd.api.types.is_object_dtype(raw.dtype):
        textual = pd.api.types.infer_dtype(raw, skipna=True) in ("string", "empty")
    else:
        textual = pd.api.types.is_string_dtype(raw.dtype)
    if not textual:
        return normalize_series(raw, max_chars=max_chars)  # numbers or lists: no shortcut
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    cleaned = normalize_series(pd.Series(uniques, dtype=object), max_chars=max_chars)
    values = np.append(cleaned.to_numpy(dtype=object), "")  # code -1 (missing) gives ""
    return pd.Series(values[codes], index=raw.index, dtype="string")


def _number_cells(raw: pd.Series, *, thousands: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A number column's cells: which are lists or objects, the parsed numbers (NaN where none),
    which are present, and the raw values for messages. ``thousands`` drops "," separators first
    ("5,000"), for amounts that are never fractions written with a decimal comma."""
    view, nonscalar = _text_view(raw)
    if pd.api.types.is_float_dtype(raw.dtype) or pd.api.types.is_integer_dtype(raw.dtype):
        numbers = raw.to_numpy(dtype=float, na_value=np.nan)
    else:
        numbers = _parse_numbers(view.str.replace(",", "", regex=False).str.strip() if thousands else view)
    return nonscalar, numbers, view.notna().to_numpy(), view.to_numpy(dtype=object, na_value=None)


def _amount_column(raw: pd.Series, field: str, q: _Quarantine) -> pd.Series:
    """A required, finite number >= 0, as float64."""
    nonscalar, numbers, present, values = _number_cells(raw)
    fix = "write a number >= 0 such as 12 or 3.5"
    q.flag(nonscalar, field, lambda i: f"'{field}' is a list or object; {fix}")
    q.flag(
        ~present & ~nonscalar,
        field,
        lambda i: f"'{field}' is blank; give the campaign's result (e.g. conversions), {fix}",
    )
    with np.errstate(invalid="ignore"):
        q.flag(
            present & ~np.isfinite(numbers),
            field,
            lambda i: f"'{field}' is {_show_number(values[i])}, not a finite number; {fix}",
        )
        q.flag(
            present & (numbers < 0),
            field,
            lambda i: f"'{field}' is {_show_number(values[i])}; outcomes cannot be negative, {fix}",
        )
        good = present & np.isfinite(numbers) & (numbers >= 0)
    return pd.Series(np.where(good, numbers, np.nan), index=raw.index, dtype="float64")


def _price_column(raw: pd.Series, field: str, q: _Quarantine) -> pd.Series:
    """An optional price paid, a finite number >= 0 in USD, as float64; a bad one is blanked."""
    nonscalar, numbers, present, values = _number_cells(raw)
    fix = "write the price paid per post in USD as a plain number such as 250 or 1200.50, or leave it blank"
    q.blank(nonscalar, field, lambda i: f"'{field}' is a list or object; {fix}")
    with np.errstate(invalid="ignore"):
        q.blank(present & ~nonscalar & ~np.isfinite(numbers), field, lambda i: f"'{field}' is {_show_number(values[i])}, not a number; {fix}")
        q.blank(present & (numbers < 0), field, lambda i: f"'{field}' is {_show_number(values[i])}; a price cannot be negative, {fix}")
        good = present & np.isfinite(numbers) & (numbers >= 0)
    return pd.Series(np.where(good, numbers, np.nan), index=raw.index, dtype="float64")


def _budget_column(raw: pd.Series, field: str, q: _Quarantine) -> pd.Series:
    """An optional amount > 0 as float64; a bad value is blanked (the brand gets no shortlist), the row stays."""
    nonscalar, numbers, present, values = _number_cells(raw, thousands=True)
    fix = "write an amount above 0 such as 5000 in the prices' currency, or leave it blank for no shortlist"
    q.blank(nonscalar, field, lambda i: f"'{field}' is a list or object; {fix}")
    with np.errstate(invalid="ignore"):
        bad = present & ~nonscalar & ~(np.isfinite(numbers) & (numbers > 0) & (numbers <= 1e12))
    q.blank(bad, field, lambda i: f"'{field}' is {_show_number(values[i])}, not an amount above 0; {fix}")
    good = present & ~nonscalar & ~bad
    return pd.Series(np.where(good, numbers, np.nan), index=raw.index, dtype="float64")


def _label_column(raw: pd.Series, field: str, q: _Quarantine) -> pd.Series:
    view, _ = _text_view(raw)  # a list or object comes back blank
    _flag_nonscalar(raw, field, q)
    return view.str.lower().fillna("")


_COUNTRY_FIX = f"is not a country matcher recognises; {COUNTRY_HINT}"
_LANGUAGE_FIX = f"is not a language matcher recognises; {LANGUAGE_HINT}"


def _coded(view: pd.Series, convert: Callable[[str], str | None]) -> pd.Series:
    """``convert`` applied once per distinct value of a ``"string"`` column; NA stays NA."""
    codes, uniques = pd.factorize(view, use_na_sentinel=True)
    mapped = np.array([convert(str(u)) for u in uniques] + [None], dtype=object)
    return pd.Series(mapped[codes], index=view.index, dtype="string")


def _code_column(
    raw: pd.Series, field: str, q: _Quarantine, convert: Callable[[str], str | None], fix: str, example: str
) -> pd.Series:
    """An optional country or language as its code; an unrecognised value is blanked."""
    view, nonscalar = _text_view(raw)
    codes = _coded(view, convert)
    values = view.to_numpy(dtype=object, na_value=None)
    q.blank(nonscalar, field, lambda i: f"'{field}' is a list or object; write one value such as {example}")
    q.blank(
        view.notna().to_numpy() & codes.isna().to_numpy(),
        field,
        lambda i: f"'{field}' {_show(values[i])} {fix}, or leave it blank",
    )
    return codes


def _country_column(raw: pd.Series, field: str, q: _Quarantine) -> pd.Series:
    return _code_column(raw, field, q, country_code, _COUNTRY_FIX, "US")


def _language_column(raw: pd.Series, field: str, q: _Quarantine) -> pd.Series:
    return _code_column(raw, field, q, language_code, _LANGUAGE_FIX, "en")


def _split_items(value: object) -> list[object] | None:
    """Return the items of a list cell, or ``None`` if the cell is not list-like."""
    if isinstance(value, list | tuple | np.ndarray | pd.Series):
        return list(value)
    if _is_missing_scalar(value):
        return []
    if isinstance(value, dict | set):
        return None
    text = str(value)
    # "|" wins when present, so "Acme, Inc.|Bolt" keeps the comma inside a name.
    return text.split("|") if "|" in text else text.split(",")


def _list_column(
    raw: pd.Series,
    field: str,
    item: Callable[[str], str | None],
    fix: str,
    q: _Quarantine,
) -> pd.Series:
    # Brands are few, so a per-row loop is fine here.
    out: list[list[str]] = []
    bad: dict[int, str] = {}
    for i, value in enumerate(raw.tolist()):
        items = _split_items(value)
        if items is None:
            bad[i] = f"'{field}' is an object; write a list or values separated by |"
            out.append([])
            continue
        cleaned: list[str] = []
        for entry in items:
            text = _scalar_text(entry)
            if text is _NOT_SCALAR:
                bad.setdefault(i, f"'{field}' has a nested list or object; write plain values")
                continue
            if text is None or not str(text).strip():
                continue
            converted = item(str(text).strip())
            if converted is None:
                bad.setdefault(i, f"'{field}' has {_show(str(text).strip())}, which {fix}")
                continue
            if converted not in cleaned:
                cleaned.append(converted)
        out.append(cleaned)
    mask = np.zeros(len(raw), dtype=bool)
    mask[list(bad)] = True
    q.flag(mask, field, lambda i: bad[i])
    return pd.Series(out, index=raw.index, dtype=object)


# -------------------------------------------------------------------------- loading


def _check_max_chars(max_text_chars: int) -> None:
    if (
        isinstance(max_text_chars, bool)
        or not isinstance(max_text_chars, int | np.integer)
        or max_text_chars < 1
    ):
        raise ConfigError(f"max_text_chars must be a whole number >= 1, got {max_text_chars!r}")


def _raw(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def _mark_duplicates(
    ids: pd.Series,
    field: str,
    q: _Quarantine,
    *,
    describe: Callable[[int], str] | None = None,
    fix: str = "remove this row or give it its own id",
) -> None:
    # Only rows that passed every other check take part, so the row named as "kept" is
    # really in the output. ``describe(i)`` names the repeated key of row i (default: the
    # id in ``field``).
    rows = np.flatnonzero(q.ok)
    if rows.size == 0:
        return
    # One factorize instead of duplicated() plus a lookup: codes follow first appearance,
    # so np.unique's first indices are the kept rows.
    codes, _ = pd.factorize(ids.iloc[rows], use_na_sentinel=False)
    _, first = np.unique(codes, return_index=True)
    kept = rows[first[codes]]
    repeated = kept != rows
    if not repeated.any():
        return
    mask = np.zeros(len(ids), dtype=bool)
    mask[rows[repeated]] = True
    kept_at = np.zeros(len(ids), dtype=np.int64)
    kept_at[rows] = kept

    def key_of(i: int) -> str:
        if describe is not None:
            return describe(i)
        value = ids.iloc[i]
        return f"'{field}' {_show(None if pd.isna(value) else value)}"

    q.flag(
        mask,
        field,
        lambda i: f"{key_of(i)} repeats {q.parts.row_name(int(kept_at[i]))}, which is kept; {fix}",
    )
    q.duplicates = int(mask.sum())


def _finish(
    table: str,
    path: str | Path,
    frame: pd.DataFrame,
    columns: Sequence[str],
    ids: pd.Series,
    q: _Quarantine,
) -> tuple[pd.DataFrame, list[Rejection], TableReport]:
    """The accepted rows of ``frame`` (the table's ``columns``, then any others), the report and its counts."""
    read = len(frame)
    keep = q.ok
    frame = frame[keep].reset_index(drop=True)
    shown = str(path)
    bad = np.flatnonzero(~keep)
    id_values = ids.to_numpy(dtype=object, na_value=None)
    # (row, field position, entry): each table's report lists its rows in file order, and a
    # row's blanked values in column order. A rejected row's blanked values are not listed:
    # the row itself is out.
    order = {name: k for k, name in enumerate(columns)}
    parts = q.parts
    entries = [
        (int(i), 0, Rejection(*parts.file_row(int(i)), id_values[i], str(q.field[i]), str(q.reason[i]), REJECTED))
        for i in bad
    ]
    blanked = 0
    for rows, field, reasons in q.blanked:
        kept = keep[rows]
        blanked += int(kept.sum())
        entries.extend(
            (int(i), order.get(field, len(order)), Rejection(*parts.file_row(int(i)), id_values[i], field, reason, BLANKED))
            for i, reason, k in zip(rows.tolist(), reasons, kept.tolist())
            if k
        )
    entries.sort(key=lambda e: (e[0], e[1]))
    rejections = [e[2] for e in entries]
    report = TableReport(
        name=table,
        path=shown,
        read=read,
        accepted=len(frame),
        quarantined=len(bad),
        duplicates=q.duplicates,
        blanked=blanked,
        files=tuple(parts.names),
    )
    if q.duplicates:
        logger.warning(
            "%s: %d %s row(s) repeat an earlier id; kept the first occurrence of each",
            shown,
            q.duplicates,
            table,
        )
    if len(bad):
        logger.warning(
            "%s: quarantined %d of %d %s row(s); the quarantine report gives each reason",
            shown,
            len(bad),
            read,
            table,
        )
    if blanked:
        logger.warning(
            "%s: left %d unreadable optional value(s) blank in accepted %s rows; the quarantine "
            "report lists each one",
            shown,
            blanked,
            table,
        )
    logger.info("%s: accepted %d of %d %s row(s)", shown, len(frame), read, table)
    return frame, rejections, report


# ------------------------------------------------------------------ tables, part by part
#
# Each table is converted part by part (a file is one part), each part on its own: its values
# parsed, its rows checked against the other tables, and every bad value reported, as a task that
# may run in another process (the Ray engine runs one per part). What needs the whole table, the
# duplicate ids and the report, is done once all its parts are back, in part order.


@dataclass(frozen=True, eq=False)
class _Context:
    """What converting a part needs besides the part: shipped to every task of a table once."""

    max_text_chars: int = 2000
    creator_ids: pd.Series | None = None  # posts: the accepted creators' ids
    posts: pd.DataFrame | None = None  # comments: the accepted posts' post_id and creator_id


_Columns = tuple[dict[str, pd.Series], pd.Series]


def _creator_columns(raw: pd.DataFrame, q: _Quarantine, ctx: _Context) -> _Columns:
    ids = _id_column(
        _raw(raw, "creator_id"), "creator_id", "'creator_id' is blank; every creator needs a unique id", q
    )
    columns = {
        "creator_id": ids,
        "handle": _text_column(_raw(raw, "handle"), "handle", ctx.max_text_chars, q),
        "platform": _label_column(_raw(raw, "platform"), "platform", q),
        "bio": _text_column(_raw(raw, "bio"), "bio", ctx.max_text_chars, q),
        "followers": _count_column(_raw(raw, "followers"), "followers", q),
        "following": _count_column(_raw(raw, "following"), "following", q),
        "country": _country_column(_raw(raw, "country"), "country", q),
        "language": _language_column(_raw(raw, "language"), "language", q),
    }
    return columns, ids


def _isin(view: pd.Series, creator_ids: Collection[str]) -> np.ndarray:
    """Return which values of a ``"string"`` column are among ``creator_ids``."""
    known = _id_series(creator_ids)
    # pyarrow directly: pandas' isin for arrow strings builds one Python object per known
    # id, which costs seconds per million creators.
    values = pa.array(view.astype("string").array)
    value_set = pa.array(known.array).cast(values.type)
    found = pc.is_in(values, value_set=value_set).fill_null(False)
    return found.to_numpy(zero_copy_only=False).astype(bool, copy=False)


def _id_series(ids: Collection[str]) -> pd.Series:
    if isinstance(ids, pd.Series | pd.Index | np.ndarray):
        return pd.Series(ids).astype("string")
    return pd.Series([str(c) for c in ids], dtype="string")


def _positions(view: pd.Series, known: pd.Series) -> np.ndarray:
    """Return the position in ``known`` (unique ids) of each value of ``view``, -1 if absent."""
    values = pa.array(view.astype("string").array)
    value_set = pa.array(known.astype("string").array).cast(values.type)
    found = pc.index_in(values, value_set=value_set).fill_null(-1)
    return found.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


def _post_columns(raw: pd.DataFrame, q: _Quarantine, ctx: _Context) -> _Columns:
    ids = _id_column(_raw(raw, "post_id"), "post_id", "'post_id' is blank; every post needs a unique id", q)
    owners = _id_column(
        _raw(raw, "creator_id"),
        "creator_id",
        "'creator_id' is blank; every post needs the id of its creator",
        q,
    )
    owner_values = owners.to_numpy(dtype=object, na_value=None)
    known = ctx.creator_ids if ctx.creator_ids is not None else pd.Series([], dtype="string")
    q.flag(
        owners.notna().to_numpy() & ~_isin(owners, known),
        "creator_id",
        lambda i: f"'creator_id' {_show(owner_values[i])} is not in the creators file "
        "(or was quarantined); add the creator or drop the post",
    )
    columns = {
        "post_id": ids,
        "creator_id": owners,
        "text": _text_column(_raw(raw, "text"), "text", ctx.max_text_chars, q),
        "posted_at": _time_column(_raw(raw, "posted_at"), "posted_at", q),
        "likes": _count_column(_raw(raw, "likes"), "likes", q),
        "comments": _count_column(_raw(raw, "comments"), "comments", q),
        "views": _count_column(_raw(raw, "views"), "views", q),
        "shares": _count_column(_raw(raw, "shares"), "shares", q),
        "sponsored": _flag_column(_raw(raw, "sponsored"), "sponsored", q),
        "sponsor": _sponsor_column(_raw(raw, "sponsor"), "sponsor", q),
    }
    return columns, ids


def _brand_columns(raw: pd.DataFrame, q: _Quarantine, ctx: _Context) -> _Columns:
    max_text_chars = ctx.max_text_chars
    ids = _id_column(_raw(raw, "brand_id"), "brand_id", "'brand_id' is blank; every brand needs a unique id", q)
    name = _text_column(_raw(raw, "name"), "name", max_text_chars, q)
    description = _text_column(_raw(raw, "description"), "description", max_text_chars, q, reject=True)
    q.flag(
        (description == "").to_numpy(dtype=bool),
        "description",
        lambda i: "'description' is blank; describe the brand's product so creators can be matched to it",
    )

    def competitor(text: str) -> str | None:
        return normalize_text(text, max_chars=max_text_chars) or None

    columns = {
        "brand_id": ids,
        "name": name,
        "description": description,
        "countries": _list_column(_raw(raw, "countries"), "countries", country_code, _COUNTRY_FIX, q),
        "languages": _list_column(_raw(raw, "languages"), "languages", language_code, _LANGUAGE_FIX, q),
        "competitors": _list_column(
            _raw(raw, "competitors"), "competitors", competitor, "is empty after clean-up", q
        ),
        "exclude_creators": _list_column(
            _raw(raw, "exclude_creators"), "exclude_creators", lambda s: s, "", q
        ),
        # A brand's filters fail closed: a blanked bound would widen whom the brand is matched with.
        "min_followers": _count_column(_raw(raw, "min_followers"), "min_followers", q, reject=True),
        "max_followers": _count_column(_raw(raw, "max_followers"), "max_followers", q, reject=True),
        # Optional: the nightly batch writes a shortlist for brands that give one. Kept only when
        # some part of the table has the column (a blank budget is no budget).
        "budget": _budget_column(_raw(raw, "budget"), "budget", q),
    }
    low, high = columns["min_followers"], columns["max_followers"]
    q.flag(
        _to_mask(low > high),
        "min_followers",
        lambda i: f"'min_followers' {low.iloc[i]} is greater than 'max_followers' {high.iloc[i]}; "
        "swap them or leave one blank",
    )
    return columns, ids


def _comment_columns(raw: pd.DataFrame, q: _Quarantine, ctx: _Context) -> _Columns:
    posts = ctx.posts if ctx.posts is not None else pd.DataFrame({"post_id": pd.Series(dtype="string"), "creator_id": pd.Series(dtype="string")})
    ids = _id_column(
        _raw(raw, "comment_id"), "comment_id", "'comment_id' is blank; every comment needs a unique id", q
    )
    post_ids = _id_column(
        _raw(raw, "post_id"), "post_id", "'post_id' is blank; every comment needs the id of its post", q
    )
    where = _positions(post_ids, posts["post_id"])
    q.flag(
        post_ids.notna().to_numpy() & (where < 0),
        "post_id",
        lambda i: f"'post_id' {_show(post_ids.iloc[i])} is not in the posts file (or was quarantined); "
        "add the post or drop the comment",
    )
    authors = _id_column(
        _raw(raw, "author_id"), "author_id", "'author_id' is blank; every comment needs the id of its author", q
    )
    columns = {
        "comment_id": ids,
        "post_id": post_ids,
        "author_id": authors,
        "text": _repeated_text_column(_raw(raw, "text"), "text", ctx.max_text_chars, q),
        "created_at": _time_column(_raw(raw, "created_at"), "created_at", q),
        "is_creator_reply": _flag_column(_raw(raw, "is_creator_reply"), "is_creator_reply", q),
    }
    owners = pa.array(posts["creator_id"].astype("string").array)
    owner_of = pc.take(owners, pa.array(where, mask=where < 0))
    same = pc.equal(pa.array(authors.array).cast(owner_of.type), owner_of).fill_null(False)
    own = same.to_numpy(zero_copy_only=False).astype(bool, copy=False)
    flag = columns["is_creator_reply"]
    columns["is_creator_reply"] = flag.fillna(pd.Series(own, index=raw.index)).astype("boolean")
    return columns, ids


def _outcome_columns(raw: pd.DataFrame, q: _Quarantine, ctx: _Context) -> _Columns:
    brands = _id_column(
        _raw(raw, "brand_id"), "brand_id", "'brand_id' is blank; every outcome needs the brand of its campaign", q
    )
    creators = _id_column(
        _raw(raw, "creator_id"),
        "creator_id",
        "'creator_id' is blank; every outcome needs the creator of its campaign",
        q,
    )
    columns = {
        "brand_id": brands,
        "creator_id": creators,
        "outcome": _amount_column(_raw(raw, "outcome"), "outcome", q),
        "date": _time_column(_raw(raw, "date"), "date", q),
        "price": _price_column(_raw(raw, "price"), "price", q),
    }
    ids = (brands.fillna("") + "/" + creators.fillna("")).mask(brands.isna() & creators.isna())
    return columns, ids


def _outcome_duplicates(frame: pd.DataFrame, ids: pd.Series, q: _Quarantine) -> None:
    brands, creators, dates = frame["brand_id"], frame["creator_id"], frame["date"]
    date_text = dates.astype("string").fillna("")
    keys = brands.fillna("") + "\x1f" + creators.fillna("") + "\x1f" + date_text
    brand_values = brands.to_numpy(dtype=object, na_value=None)
    creator_values = creators.to_numpy(dtype=object, na_value=None)

    def describe(i: int) -> str:
        day = dates.iloc[i]
        when = "a blank date" if pd.isna(day) else f"date {day.isoformat()}"
        return (
            f"brand_id {_show(brand_values[i])}, creator_id {_show(creator_values[i])} and {when}"
        )

    _mark_duplicates(
        keys,
        "date",
        q,
        describe=describe,
        fix="remove this row, or give each campaign of the same brand and creator its own date",
    )


def _duplicate_ids(field: str) -> Callable[[pd.DataFrame, pd.Series, _Quarantine], None]:
    def dedupe(frame: pd.DataFrame, ids: pd.Series, q: _Quarantine) -> None:
        _mark_duplicates(ids, field, q)

    return dedupe


@dataclass(frozen=True)
class _Table:
    """How a table is converted (part by part) and finished (whole)."""

    required: tuple[str, ...]
    convert: Callable[[pd.DataFrame, _Quarantine, _Context], _Columns]
    dedupe: Callable[[pd.DataFrame, pd.Series, _Quarantine], None]  # quarantines the repeated rows
    optional: tuple[str, ...] = ()  # converted columns kept only when some part has them


_TABLES: dict[str, _Table] = {
    "creators": _Table(("creator_id",), _creator_columns, _duplicate_ids("creator_id")),
    "posts": _Table(("post_id", "creator_id"), _post_columns, _duplicate_ids("post_id")),
    "brands": _Table(("brand_id", "description"), _brand_columns, _duplicate_ids("brand_id"), optional=("budget",)),
    "comments": _Table(("comment_id", "post_id", "author_id"), _comment_columns, _duplicate_ids("comment_id")),
    "outcomes": _Table(("brand_id", "creator_id", "outcome"), _outcome_columns, _outcome_duplicates),
}


@dataclass(frozen=True, eq=False)
class _Converted:
    """A part, converted: its columns as read, the table's columns then its others (every row, the
    rejected ones too), the rows' ids, and what its quarantine found."""

    names: list[str]
    columns: list[str]
    frame: pd.DataFrame
    ids: pd.Series
    field: np.ndarray
    reason: np.ndarray
    blanked: list[tuple[np.ndarray, str, list[str]]]


def _check_required(shown: str, table: str, names: Sequence[str]) -> None:
    missing = [c for c in _TABLES[table].required if c not in names]
    if missing:
        found = ", ".join(repr(c) for c in names) or "none"
        lowered = {c.lower() for c in names}
        hint = " (column names are case-sensitive)" if any(m.lower() in lowered for m in missing) else ""
        raise InputFileError(
            f"{shown}: the {table} file lacks required column(s) "
            f"{', '.join(repr(m) for m in missing)}{hint}; columns found: {found}"
        )


def _convert_part(part: PartFile, job: tuple[str, _Context, bool]) -> _Converted:
    """Read one part of a table and convert it: a task, run wherever ``map_parts`` runs it.

    ``job`` is the table's name, its context, and whether this part is the whole table: a file
    lacking a required column then fails before it is converted (a folder's required columns are
    checked over all its parts, once they are back).
    """
    table, ctx, whole = job
    raw = part.read()
    if whole:
        _check_required(part.shown, table, list(raw.columns))
    q = _Quarantine(len(raw), _Parts([part.shown], [len(raw)]))
    columns, ids = _TABLES[table].convert(raw, q, ctx)
    canonical = pd.DataFrame(columns, index=raw.index)
    extras = [c for c in raw.columns if c not in columns]
    frame = pd.concat([canonical, raw[extras]], axis=1) if extras else canonical
    return _Converted(list(raw.columns), list(columns), frame, ids, q.field, q.reason, q.blanked)


#: Runs the parts of a table: ``map_parts(fn, parts, shared)`` returns ``[fn(part, shared) for part
#: in parts]``, in order, wherever it runs each call (a Ray task for the Ray engine).
PartMap = Callable[[Callable[[Any, Any], Any], Sequence[Any], Any], list[Any]]


def _in_process(fn: Callable[[Any, Any], Any], parts: Sequence[Any], shared: Any) -> list[Any]:
    return [fn(part, shared) for part in parts]


@contextmanager
def _table_parts(path: str | Path) -> Iterator[list[PartFile]]:
    """The files of a table: one, or its folder's parts; a URL fetched to a temporary folder first."""
    shown = str(path)
    fmt = table_format(path)
    if is_url(path):
        with fetched_copy(shown) as copy, _table_parts(copy) as parts:
            yield parts
        return
    url = path.url if isinstance(path, FetchedFile) else None
    if fmt == "folder":
        digests = path.parts if isinstance(path, FetchedFile) else None
        yield _folder_parts(Path(path), shown, url=url, digests=digests)
    else:
        yield [PartFile(shown, os.fspath(path), fmt, url, path.sha256 if isinstance(path, FetchedFile) else None)]


def _load(
    table: str, path: str | Path, ctx: _Context, map_parts: PartMap | None = None
) -> tuple[pd.DataFrame, list[Rejection], TableReport]:
    spec = _TABLES[table]
    with _table_parts(path) as parts:
        whole = len(parts) == 1 and parts[0].shown == str(path)  # one file, not a folder of one part
        done: list[_Converted] = (map_parts or _in_process)(_convert_part, parts, (table, ctx, whole))
    shown = str(path)
    _check_part_columns(shown, parts, [d.names for d in done])
    names = list(dict.fromkeys(c for d in done for c in d.names))  # as one frame of every part would have them
    _check_required(shown, table, names)
    frame = pd.concat([d.frame for d in done], ignore_index=True) if len(done) > 1 else done[0].frame
    ids = pd.concat([d.ids for d in done], ignore_index=True) if len(done) > 1 else done[0].ids
    absent = [c for c in spec.optional if c not in names]
    if absent:
        frame = frame.drop(columns=absent)
    canonical = [c for c in done[0].columns if c not in absent]
    if len(parts) > 1:
        logger.info("%s: read %d row(s) from %d part(s)", shown, len(frame), len(parts))
    q = _Quarantine(len(frame), _Parts([p.shown for p in parts], [len(d.frame) for d in done]))
    q.field = np.concatenate([d.field for d in done])
    q.reason = np.concatenate([d.reason for d in done])
    for start, d in zip(q.parts.starts.tolist(), done):
        q.blanked.extend((rows + start, field, reasons) for rows, field, reasons in d.blanked)
    spec.dedupe(frame, ids, q)
    return _finish(table, path, frame, canonical, ids, q)


def load_creators(
    path: str | Path, *, max_text_chars: int = 2000, map_parts: PartMap | None = None
) -> tuple[pd.DataFrame, list[Rejection], TableReport]:
    """Read and validate the creators table.

    :param path: the creators file (see :func:`read_table` for formats).
    :param max_text_chars: cap for ``handle`` and ``bio`` after normalisation.
    :param map_parts: runs the conversion of each part of the table (see :func:`load_dataset`).
    :returns: accepted creators (columns :data:`CREATOR_COLUMNS`, then extra columns as
        they came), the rejections and the table report.
    :raises InputFileError: if the file cannot be read or lacks ``creator_id``.
    :raises ConfigError: if ``max_text_chars`` is not a whole number >= 1.
    """
    _check_max_chars(max_text_chars)
    return _load("creators", path, _Context(max_text_chars), map_parts)


def load_posts(
    path: str | Path, creator_ids: Collection[str], *, max_text_chars: int = 2000, map_parts: PartMap | None = None
) -> tuple[pd.DataFrame, list[Rejection], TableReport]:
    """Read and validate the posts table.

    :param path: the posts file (see :func:`read_table` for formats).
    :param creator_ids: ids of the accepted creators; posts of anyone else are quarantined.
    :param max_text_chars: cap for ``text`` after normalisation.
    :param map_parts: runs the conversion of each part of the table (see :func:`load_dataset`).
    :returns: accepted posts (columns :data:`POST_COLUMNS`, then extra columns as they
        came), the rejections and the table report.
    :raises InputFileError: if the file cannot be read or lacks ``post_id``/``creator_id``.
    :raises ConfigError: if ``max_text_chars`` is not a whole number >= 1.
    """
    _check_max_chars(max_text_chars)
    return _load("posts", path, _Context(max_text_chars, creator_ids=_id_series(creator_ids)), map_parts)


def load_brands(
    path: str | Path, *, max_text_chars: int = 2000, map_parts: PartMap | None = None
) -> tuple[pd.DataFrame, list[Rejection], TableReport]:
    """Read and validate the brands table.

    List fields (``countries``, ``languages``, ``competitors``, ``exclude_creators``) take
    a JSON/Parquet list or a string of values separated by ``|`` or, when there is no
    ``|``, by ``,``. The optional ``budget`` column (an amount above 0; a bad one is left
    blank) asks the nightly batch for a shortlist within it.

    :param path: the brands file (see :func:`read_table` for formats).
    :param max_text_chars: cap for ``name``, ``description`` and competitor names.
    :param map_parts: runs the conversion of each part of the table (see :func:`load_dataset`).
    :returns: accepted brands (columns :data:`BRAND_COLUMNS`, then ``budget`` when the table
        has it, then extra columns as they came), the rejections and the table report.
    :raises InputFileError: if the file cannot be read or lacks ``brand_id``/``description``.
    :raises ConfigError: if ``max_text_chars`` is not a whole number >= 1.
    """
    _check_max_chars(max_text_chars)
    return _load("brands", path, _Context(max_text_chars), map_parts)


def load_comments(
    path: str | Path, posts: pd.DataFrame, *, max_text_chars: int = 2000, map_parts: PartMap | None = None
) -> tuple[pd.DataFrame, list[Rejection], TableReport]:
    """Read and validate the comments table (a sample of the comments under the posts).

    A blank ``is_creator_reply`` is derived: true when ``author_id`` is the post's
    ``creator_id`` (the creator commenting under their own post), false otherwise. A given
    value is kept as it is.

    :param path: the comments file (see :func:`read_table` for formats).
    :param posts: the accepted posts (at least ``post_id`` and ``creator_id``); comments on
        any other post are quarantined.
    :param max_text_chars: cap for ``text`` after normalisation.
    :param map_parts: runs the conversion of each part of the table (see :func:`load_dataset`).
    :returns: accepted comments (columns :data:`COMMENT_COLUMNS`, then extra columns as
        they came), the rejections and the table report.
    :raises InputFileError: if the file cannot be read or lacks ``comment_id``,
        ``post_id`` or ``author_id``.
    :raises ConfigError: if ``max_text_chars`` is not a whole number >= 1.
    :raises ValueError: if ``posts`` lacks the ``post_id`` or ``creator_id`` column.
    """
    _check_max_chars(max_text_chars)
    missing = [c for c in ("post_id", "creator_id") if c not in posts.columns]
    if missing:
        raise ValueError(f"posts must be the accepted posts frame; it lacks {', '.join(missing)}")
    owners = posts[["post_id", "creator_id"]].reset_index(drop=True)
    return _load("comments", path, _Context(max_text_chars, posts=owners), map_parts)


def load_outcomes(path: str | Path) -> tuple[pd.DataFrame, list[Rejection], TableReport]:
    """Read and validate the outcomes table: one row per creator per past campaign.

    ``outcome`` is the campaign's result (conversions, sales, engagements, ...), a finite
    number >= 0. ``price`` (optional) is what the creator was paid per post, in USD, a finite
    number >= 0; an unreadable or negative price is blanked and the row kept (``matcher train``
    calibrates the price estimates on the prices given, :mod:`matcher.prices`). The creators and brands are not checked against any other file: outcomes
    may come from an older snapshot. A row repeating the (``brand_id``, ``creator_id``,
    ``date``) of an earlier row is quarantined as a duplicate (two blank dates are equal).
    A rejection's id is ``brand_id/creator_id``.

    :param path: the outcomes file (see :func:`read_table` for formats).
    :returns: accepted outcomes (columns :data:`OUTCOME_COLUMNS`, then extra columns as
        they came), the rejections and the table report.
    :raises InputFileError: if the file cannot be read or lacks ``brand_id``,
        ``creator_id`` or ``outcome``.
    """
    return _load("outcomes", path, _Context())


def load_dataset(
    creators: str | Path,
    posts: str | Path,
    brands: str | Path | None = None,
    *,
    comments: str | Path | None = None,
    max_text_chars: int = 2000,
    map_parts: PartMap | None = None,
) -> Dataset:
    """Load creators, then their posts, then (optionally) brands and comments.

    :param creators: the creators file.
    :param posts: the posts file; posts of quarantined or unknown creators are quarantined.
    :param brands: the brands file, or ``None``.
    :param comments: the comments file, or ``None``; comments on quarantined or unknown
        posts are quarantined.
    :param max_text_chars: cap for every text field after normalisation.
    :param map_parts: runs the conversion of a table's parts (a file is one part):
        ``map_parts(fn, parts, shared)`` returns ``[fn(part, shared) for part in parts]`` in
        order, wherever it makes each call. ``None``: one after another in this process. The Ray
        engine passes :meth:`matcher.distributed.RayStages.map_parts`, one Ray task per part. Duplicate
        ids and the reports are settled here, once a table's parts are back, so the result is
        the same wherever the parts ran.
    :returns: the accepted tables with all rejections and reports.
    :raises InputFileError: if any file cannot be read or lacks required columns.
    :raises ConfigError: if ``max_text_chars`` is not a whole number >= 1.
    """
    creator_frame, creator_rejections, creator_report = load_creators(
        creators, max_text_chars=max_text_chars, map_parts=map_parts
    )
    post_frame, post_rejections, post_report = load_posts(
        posts, creator_frame["creator_id"], max_text_chars=max_text_chars, map_parts=map_parts
    )
    rejections = [*creator_rejections, *post_rejections]
    reports = [creator_report, post_report]
    brand_frame = None
    if brands is not None:
        brand_frame, brand_rejections, brand_report = load_brands(
            brands, max_text_chars=max_text_chars, map_parts=map_parts
        )
        rejections.extend(brand_rejections)
        reports.append(brand_report)
    comment_frame = None
    if comments is not None:
        comment_frame, comment_rejections, comment_report = load_comments(
            comments, post_frame, max_text_chars=max_text_chars, map_parts=map_parts
        )
        rejections.extend(comment_rejections)
        reports.append(comment_report)
    return Dataset(
        creators=creator_frame,
        posts=post_frame,
        brands=brand_frame,
        rejections=tuple(rejections),
        reports=tuple(reports),
        comments=comment_frame,
    )


def quarantine_frame(rejections: Iterable[Rejection]) -> pd.DataFrame:
    """Return rejections as a frame with columns file, row, id, field, action, reason.

    :param rejections: the rejections, in any order.
    :returns: one row per rejection, in the order given.
    """
    rows = [[getattr(r, name) for name in _QUARANTINE_COLUMNS] for r in rejections]
    frame = pd.DataFrame(rows, columns=list(_QUARANTINE_COLUMNS))
    return frame.astype(
        {
            "file": "string",
            "row": "int64",
            "id": "string",
            "field": "string",
            "action": "string",
            "reason": "string",
        }
    )


def write_quarantine(rejections: Iterable[Rejection], path: str | Path) -> Path:
    """Write rejections to a UTF-8 CSV file; the header is written even when there are none.

    :param rejections: the rejections to write.
    :param path: the CSV file to create or replace; missing parent folders are created.
    :returns: the path written.
    :raises OSError: if the file cannot be written.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    spreadsheet_safe_frame(quarantine_frame(rejections)).to_csv(target, index=False, encoding="utf-8")
    return target
