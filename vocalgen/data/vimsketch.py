"""Index of a VimSketch-layout folder: imitation ↔ reference pairs by the naming rule."""

import csv
from dataclasses import dataclass, field
from pathlib import Path

from vocalgen.data.audio_io import AUDIO_EXTENSIONS
from vocalgen.errors import ConfigError


@dataclass(frozen=True)
class ImitationPair:
    """One vocal imitation and the sound it imitates, with the sound's optional metadata."""

    imitation: Path
    reference: Path
    sound: str
    label: str = ""
    caption: str = ""
    bpm: float = 0.0
    extra: dict[str, str] = field(default_factory=dict, compare=False)


def sound_key(file_name: str) -> str:
    """The part of a VimSketch file name after its first `_`-separated field."""
    parts = file_name.split("_", 1)
    return parts[1] if len(parts) == 2 else file_name


def matching_key(file_name: str) -> str:
    """What pairs an imitation with its reference: the sound key without its audio suffix, so that
    references converted to flac or mp3 still pair with wav imitations ('1_Dog bark.flac' → 'Dog bark')."""
    key = sound_key(file_name)
    suffix = Path(key).suffix
    return key[: -len(suffix)] if suffix.lower() in AUDIO_EXTENSIONS else key


def reference_index(names: list[str], listing: Path) -> dict[str, str]:
    """{matching_key: reference file name}; ConfigError naming both files when two share a key."""
    index: dict[str, str] = {}
    for name in names:
        key = matching_key(name)
        if key in index:
            raise ConfigError(f"{listing} lists {index[key]!r} and {name!r}, the same sound ({key!r}) twice: an "
                              "imitation could not tell which it imitates. Remove one of the lines.")
        index[key] = name
    return index


def sound_label(sound: str) -> str:
    """A sound's class when no metadata names one: its key without the leading number and suffix
    ('246Sounds of things_Tools_Sanding.wav' → 'Sounds of things_Tools_Sanding')."""
    stem = Path(sound).stem
    return stem.lstrip("0123456789") or stem


def read_name_list(path: Path) -> list[str]:
    """File names from a tab-separated, header-less list (first column)."""
    if not path.is_file():
        raise ConfigError(f"{path}: file list not found; is data.root a VimSketch folder?")
    with path.open(newline="", encoding="utf-8") as handle:
        return [row[0] for row in csv.reader(handle, delimiter="\t") if row and row[0].strip()]


def listed_file(path: Path, listing: Path) -> Path:
    """`path`, or a ConfigError saying that `listing` names a file that is not there."""
    if not path.is_file():
        raise ConfigError(f"{listing} names {path.name!r}, but {path} does not exist. "
                          "Restore the file or remove its line from the list.")
    return path


def read_metadata(path: Path) -> dict[str, dict[str, str]]:
    """Optional `metadata.csv` (reference, class, caption, bpm, …) keyed by reference name."""
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["reference"]: row for row in csv.DictReader(handle)}


def index_vimsketch(root: str | Path) -> list[ImitationPair]:
    """Every imitation of `root` paired with its reference (sorted by imitation name).

    Raises ConfigError naming the file at fault when a folder or list is missing or an imitation
    has no reference of the same sound.
    """
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"data.root={root} does not exist. Point data.root at a VimSketch folder.")
    references = reference_index(read_name_list(root / "reference_file_names.csv"), root / "reference_file_names.csv")
    metadata = read_metadata(root / "metadata.csv")
    pairs = []
    for name in sorted(read_name_list(root / "vocal_imitation_file_names.csv")):
        reference = references.get(matching_key(name))
        if reference is None:
            raise ConfigError(
                f"{root / 'vocal_imitations' / name}: no reference named '*_{matching_key(name)}.<wav|flac|ogg|mp3>' "
                f"in {root / 'reference_file_names.csv'}. Fix the name or remove the imitation from the list."
            )
        meta = metadata.get(reference, {})
        pairs.append(
            ImitationPair(
                imitation=listed_file(root / "vocal_imitations" / name, root / "vocal_imitation_file_names.csv"),
                reference=listed_file(root / "references" / reference, root / "reference_file_names.csv"),
                sound=sound_key(reference),
                label=meta.get("class") or sound_label(sound_key(reference)),
                caption=meta.get("caption", ""),
                bpm=float(meta.get("bpm") or 0.0),
                extra=meta,
            )
        )
    if not pairs:
        raise ConfigError(f"{root}: the imitation list is empty.")
    return pairs
