"""Index of an AudioCaps-style caption set: `captions.csv` (file, caption) beside `audio/`."""

from pathlib import Path

from vocalgen.data.csv_table import table_rows
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
    pairs = []
    for line, row in table_rows(csv_path, ("file", "caption"), "columns file, caption; and audio/"):
        if not row.get("file") or row.get("caption") is None:
            raise ConfigError(f"{csv_path} line {line}: a row needs both a file and a caption.")
        clip = existing(root / "audio" / row["file"], csv_path, line)
        pairs.append(ImitationPair(imitation=clip, reference=clip, sound=row["file"], label=row["file"],
                                   caption=row["caption"].strip(), extra=row))
    if not pairs:
        raise ConfigError(f"{csv_path} lists no clips.")
    return pairs
