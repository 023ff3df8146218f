"""Index of an AudioCaps-style caption set: `captions.csv` (file, caption) beside `audio/`."""

import csv
from pathlib import Path

from vocalgen.data.qvim_dev import existing
from vocalgen.data.vimsketch import ImitationPair
from vocalgen.errors import ConfigError

CSV_NAME = "captions.csv"


def index_audiocaps(root: str | Path) -> list[ImitationPair]:
    """One pair per CSV row: the clip `root/audio/<file>` (as imitation and reference) and its caption.

    A clip with several captions appears once per caption (same reference id). Rows in file order.
    """
    root = Path(root)
    csv_path = root / CSV_NAME
    if not csv_path.is_file():
        raise ConfigError(f"{csv_path} not found; point data.root at a folder holding '{CSV_NAME}' "
                          "(columns file, caption) and audio/.")
    with csv_path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    if rows and not {"file", "caption"} <= set(rows[0]):
        raise ConfigError(f"{csv_path}: needs the columns 'file' and 'caption', found {sorted(rows[0])}.")
    pairs = []
    for number, row in enumerate(rows, start=2):
        clip = existing(root / "audio" / row["file"], csv_path, number)
        pairs.append(ImitationPair(imitation=clip, reference=clip, sound=row["file"], label=row["file"],
                                   caption=row["caption"].strip(), extra=row))
    if not pairs:
        raise ConfigError(f"{csv_path} lists no clips.")
    return pairs
