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
    pairs = []
    with csv_path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if not {"file", "caption"} <= set(reader.fieldnames or []):
            raise ConfigError(f"{csv_path}: needs the columns 'file' and 'caption', found {reader.fieldnames}.")
        for row in reader:
            if not row.get("file") or row.get("caption") is None:
                raise ConfigError(f"{csv_path} line {reader.line_num}: a row needs both a file and a caption.")
            clip = existing(root / "audio" / row["file"], csv_path, reader.line_num)
            pairs.append(ImitationPair(imitation=clip, reference=clip, sound=row["file"], label=row["file"],
                                       caption=row["caption"].strip(), extra=row))
    if not pairs:
        raise ConfigError(f"{csv_path} lists no clips.")
    return pairs
