"""Index of image–audio–caption triplets split by folder: `<split>/captions.csv` (id, caption) beside
`<split>/audio/<id>.<audio suffix>` and `<split>/frames/<id>.jpg|.png`, for split in train, val, test."""

import csv
from collections.abc import Sequence
from pathlib import Path

from vocalgen.data.audio_io import AUDIO_EXTENSIONS
from vocalgen.data.audiocaps import CSV_NAME
from vocalgen.data.csv_table import table_rows
from vocalgen.data.splits import SPLIT_NAMES
from vocalgen.data.vimsketch import ImitationPair
from vocalgen.errors import ConfigError

FRAME_EXTENSIONS = (".jpg", ".jpeg", ".png")
LAYOUT = "columns id, caption, optional label and others; beside audio/ and frames/"


def index_audiocaps_frames(root: str | Path, caption_column: str | Sequence[str] = "caption") -> list[ImitationPair]:
    """One pair per caption row of each split folder of `root` that exists (train, val, test).

    A pair holds the clip (as imitation and reference), sound "<split>/<id>", the caption, label =
    the row's `label` column if given, else the id, and `extra` = the row plus "image" (the frame's
    path) and "split". An id with several caption rows gives several pairs. Rows in file order.

    `caption_column`: the column the caption is read from, or a list of them of which the first that a
    table has is read (e.g. ["sound_caption", "caption"]: the sound's description where there is one).

    Raises ConfigError naming the CSV and line for a row without id or caption, a missing clip or
    frame, and naming the folder when it has no split folder or a split lists nothing.
    """
    root = Path(root)
    splits = [name for name in SPLIT_NAMES if (root / name).is_dir()]
    if not splits:
        raise ConfigError(f"{root} holds none of the folders {', '.join(SPLIT_NAMES)}; point data.root at a folder "
                          f"of split folders, each with {CSV_NAME}, audio/ and frames/.")
    candidates = [caption_column] if isinstance(caption_column, str) else list(caption_column)
    if not candidates:
        raise ConfigError("data.layout_options.caption_column is empty; name the captions.csv column to read.")
    return [pair for split in splits for pair in _index_split(root / split, split, candidates)]


def _index_split(folder: Path, split: str, caption_columns: list[str]) -> list[ImitationPair]:
    """The pairs of one split folder (see index_audiocaps_frames)."""
    csv_path = folder / CSV_NAME
    column = _first_column(csv_path, caption_columns)
    pairs = []
    for line, row in table_rows(csv_path, ("id", column), LAYOUT):
        where = f"{csv_path} line {line}"
        item = (row.get("id") or "").strip()
        caption = (row.get(column) or "").strip()
        if not item:
            raise ConfigError(f"{where}: the row names no id.")
        if not caption:
            raise ConfigError(f"{where}: the {column} of {item!r} is empty. Write one or remove the row.")
        clip = _with_suffix(folder / "audio" / item, AUDIO_EXTENSIONS, where, "audio file")
        frame = _with_suffix(folder / "frames" / item, FRAME_EXTENSIONS, where, "frame")
        pairs.append(ImitationPair(imitation=clip, reference=clip, sound=f"{split}/{item}",
                                   label=(row.get("label") or "").strip() or item, caption=caption,
                                   extra={**row, "image": str(frame), "split": split}))
    if not pairs:
        raise ConfigError(f"{csv_path} lists no items.")
    return pairs


def _first_column(csv_path: Path, candidates: list[str]) -> str:
    """The first of `candidates` that the header of `csv_path` names (the last one when the file is missing,
    so that reading it reports that)."""
    if not csv_path.is_file():
        return candidates[-1]
    with csv_path.open(newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle), [])
    found = [column for column in candidates if column in header]
    if not found:
        raise ConfigError(f"{csv_path}: has none of the caption columns {candidates} (data.layout_options."
                          f"caption_column), found {header}.")
    return found[0]


def _with_suffix(stem: Path, suffixes: tuple[str, ...], where: str, kind: str) -> Path:
    """The first existing `stem` + suffix; ConfigError naming `where` and every path tried."""
    for suffix in suffixes:
        path = stem.with_name(stem.name + suffix)
        if path.is_file():
            return path
    tried = ", ".join(stem.name + suffix for suffix in suffixes)
    raise ConfigError(f"{where} names {stem.name!r}, but {stem.parent} holds no {kind} of that name (tried "
                      f"{tried}). Restore the file or delete the row.")
