"""Reading the CSV that indexes a data folder (AudioCaps-style captions, loops' bpm.csv)."""

import csv
from collections.abc import Iterator
from pathlib import Path

from vocalgen.errors import ConfigError


def table_rows(csv_path: Path, columns: tuple[str, ...], layout: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) of `csv_path` (UTF-8, BOM allowed, a header row); ConfigError naming the
    file when it is missing or lacks one of `columns` (`layout` describes the folder for the message)."""
    if not csv_path.is_file():
        raise ConfigError(f"{csv_path} not found; point data.root at a folder holding '{csv_path.name}' "
                          f"({layout}).")
    with csv_path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if not set(columns) <= set(reader.fieldnames or []):
            raise ConfigError(f"{csv_path}: needs the columns {', '.join(repr(c) for c in columns)}, found "
                              f"{reader.fieldnames}.")
        for row in reader:
            yield reader.line_num, row
