"""Writing the sample's tables as CSV, JSON Lines or Parquet."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matcher.errors import ConfigError

__all__ = ["write_table"]


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _csv_flags(values: list[Any]) -> list[Any]:
    if bool not in set(map(type, values)):
        return values
    return [_csv_cell(v) if type(v) is bool else v for v in values]


def write_table(path: Path, columns: Sequence[str], table: dict[str, list[Any]], fmt: str) -> None:
    data = [table[c] for c in columns]
    if fmt == "csv":
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(columns)
            # The csv module writes None as "" and other values with str(), like _csv_cell;
            # only flags need converting. Streaming rows keeps memory flat for big tables.
            writer.writerows(zip(*[_csv_flags(values) for values in data]))
    elif fmt == "jsonl":
        dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        with path.open("w", encoding="utf-8", newline="\n") as fh:
            for row in zip(*data):
                fh.write(dumps(dict(zip(columns, row))))
                fh.write("\n")
    else:
        _write_parquet(path, columns, data)


def _write_parquet(path: Path, columns: Sequence[str], data: list[list[Any]]) -> None:
    import pandas as pd

    frame: dict[str, Any] = {}
    for name, values in zip(columns, data):
        kinds = {type(v) for v in values if v is not None}
        if kinds == {bool}:
            frame[name] = pd.array(values, dtype="boolean")
        elif kinds == {int}:
            frame[name] = pd.array(values, dtype="Int64")
        elif kinds == {float}:
            frame[name] = pd.array(values, dtype="Float64")
        elif kinds <= {str}:
            frame[name] = pd.array(values, dtype=object)
        else:  # mixed numbers and text: keep the text, write every value as text
            frame[name] = pd.array([None if v is None else _csv_cell(v) for v in values], dtype=object)
    try:
        pd.DataFrame(frame).to_parquet(path, index=False, engine="pyarrow")
    except ImportError as exc:
        raise ConfigError(
            f"fmt='parquet' needs the pyarrow package ({exc}); install pyarrow or use fmt='csv'"
        ) from None

