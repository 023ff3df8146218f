"""Index of the qvim-dev layout: `DEV Dataset.csv`, `Items/<Class>/…`, `Queries/<Class>/…`."""

import csv
from pathlib import Path

from vocalgen.data.vimsketch import ImitationPair
from vocalgen.errors import ConfigError

CSV_NAME = "DEV Dataset.csv"
QUERY_COLUMNS = ("Query 1", "Query 2", "Query 3")


def existing(path: Path, csv_path: Path, row: int) -> Path:
    """`path`, or a ConfigError naming the CSV row that points at a missing file."""
    if not path.is_file():
        raise ConfigError(f"{csv_path} row {row} names {path}, which does not exist. "
                          "Restore the file or delete the row.")
    return path


def index_qvim_dev(root: str | Path) -> list[ImitationPair]:
    """Every query of `root/DEV Dataset.csv` paired with its item (rows in file order).

    The first row is skipped (a title row); the next holds the column names (Label, Class, Items,
    Query 1, Query 2, Query 3). Empty query cells are skipped. Class is the NDCG relevance label.
    """
    root = Path(root)
    csv_path = root / CSV_NAME
    if not csv_path.is_file():
        raise ConfigError(f"{csv_path} not found; point data.root at the qvim-dev folder "
                          f"(the one holding '{CSV_NAME}', Items/ and Queries/).")
    with csv_path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))[1:]
    if not rows:
        raise ConfigError(f"{csv_path} is empty.")
    header = [name.strip() for name in rows[0]]
    missing = [name for name in ("Class", "Items", *QUERY_COLUMNS) if name not in header]
    if missing:
        raise ConfigError(f"{csv_path}: columns {missing} missing from the header {header} (second row).")
    pairs = []
    for number, values in enumerate(rows[1:], start=3):
        row = dict(zip(header, (value.strip() for value in values)))
        if not row.get("Items"):
            continue
        item = existing(root / "Items" / row["Class"] / row["Items"], csv_path, number)
        for column in QUERY_COLUMNS:
            if row.get(column):
                query = existing(root / "Queries" / row["Class"] / row[column], csv_path, number)
                pairs.append(ImitationPair(imitation=query, reference=item, sound=f"{row['Class']}/{row['Items']}",
                                           label=row["Class"], extra=row))
    if not pairs:
        raise ConfigError(f"{csv_path} lists no query/item pairs.")
    return pairs
