"""Field readers: how one audio file (or one pair's metadata or image) becomes one named tensor of a batch."""

from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import torch
from PIL import Image

from vocalgen.data.audio_io import fit_length, read_audio
from vocalgen.data.beats import beat_phase, parse_beat_times
from vocalgen.data.features import LogMelFrontEnd
from vocalgen.data.vimsketch import ImitationPair
from vocalgen.errors import BadAudioFile, BadImageFile, ConfigError

Source = Literal["imitation", "reference"]


class FieldReader(Protocol):
    """Reads the file `pair.<source>` into a tensor; `fingerprint` names everything that shapes it."""

    source: Source
    fingerprint: str

    def __call__(self, path: Path) -> torch.Tensor: ...


class PairFieldReader(Protocol):
    """Reads a whole pair (its metadata) into a tensor; marked by `reads_pair = True`, never disk-cached."""

    reads_pair: Literal[True]
    fingerprint: str

    def from_pair(self, pair: ImitationPair) -> torch.Tensor: ...


Field = FieldReader | PairFieldReader


class WaveformField:
    """File → waveform [1, samples] at `sample_rate`, zero-padded or cut."""

    def __init__(self, source: Source, sample_rate: int, samples: int) -> None:
        self.source = source
        self.sample_rate = sample_rate
        self.samples = samples
        self.fingerprint = f"waveform|{sample_rate}|{samples}"

    def __call__(self, path: Path) -> torch.Tensor:
        return fit_length(read_audio(path, self.sample_rate), self.samples).unsqueeze(0)


class LogMelField:
    """File → log-mel [1, n_mels, frames] of a clip padded or cut to `seconds`."""

    def __init__(self, source: Source, frontend: LogMelFrontEnd, seconds: float) -> None:
        self.source = source
        self.frontend = frontend
        self.samples = int(round(seconds * frontend.sample_rate))
        self.fingerprint = f"logmel|{self.samples}|{sorted(frontend.settings.items())}"

    def __call__(self, path: Path) -> torch.Tensor:
        audio = fit_length(read_audio(path, self.frontend.sample_rate), self.samples)
        with torch.no_grad():
            return self.frontend(audio).unsqueeze(0)


class BeatPhaseField:
    """Pair → beat-phase sawtooth [frames] at `frame_rate` (e.g. EnCodec's 75 Hz) from
    `pair.extra["beat_times"]` (space-separated seconds from the start of the file)."""

    reads_pair = True

    def __init__(self, frame_rate: float, frames: int) -> None:
        self.frame_rate = frame_rate
        self.frames = frames
        self.fingerprint = f"beat_phase|{frame_rate}|{frames}"

    def from_pair(self, pair: ImitationPair) -> torch.Tensor:
        try:
            return beat_phase(parse_beat_times(pair.extra.get("beat_times", "")), self.frames, self.frame_rate)
        except ValueError as error:
            raise BadAudioFile(f"{pair.reference}: its beat times make no beat phase ({error}). Give the loop two or "
                               "more increasing beat_times in its CSV row, or remove it.") from error


def read_image(path: str | Path, size: int) -> torch.Tensor:
    """The image file `path` as RGB, centre-cropped to a square and resized (bicubic) to `size` ×
    `size`: a float32 tensor [3, size, size] in [-1, 1]. BadImageFile naming the file when it is
    missing or unreadable."""
    path = Path(path)
    if not path.is_file():
        raise BadImageFile(f"{path}: no such image file. Check the data root and the frames/ folders.")
    try:
        with Image.open(path) as opened:
            image = opened.convert("RGB")
    except Exception as error:  # PIL raises several types for corrupt / unknown formats
        raise BadImageFile(f"{path}: not a readable image file ({error}). Replace or remove it.") from error
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    square = image.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.BICUBIC)
    pixels = torch.from_numpy(np.array(square, dtype=np.float32))
    return pixels.permute(2, 0, 1) / 127.5 - 1.0


class ImageField:
    """Pair → image [3, size, size] in [-1, 1] from the file `pair.extra["image"]` (see read_image;
    the audiocaps_frames layout sets it)."""

    reads_pair = True

    def __init__(self, size: int) -> None:
        self.size = size
        self.fingerprint = f"image|{size}"

    def from_pair(self, pair: ImitationPair) -> torch.Tensor:
        if "image" not in pair.extra:
            raise ConfigError(f"{pair.reference}: its pair has no image; the image field needs a layout with frames "
                              "(data=audiocaps_frames or data=synthetic_scenes).")
        return read_image(pair.extra["image"], self.size)
