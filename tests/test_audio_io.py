"""Audio reading: formats, channels, rates, lengths, and a clear error for each kind of bad file."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from vocalgen.data.audio_io import fit_length, read_audio, write_audio
from vocalgen.data.features import LogMelFrontEnd
from vocalgen.errors import BadAudioFile


def tone(seconds: float, rate: int, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    wave = 0.5 * np.sin(2 * np.pi * 440 * t).astype(np.float32)
    return np.stack([wave] * channels, axis=1) if channels > 1 else wave


@pytest.mark.parametrize(("suffix", "rate"), [(".wav", 16000), (".flac", 44100), (".ogg", 48000), (".mp3", 22050)])
def test_formats_and_rates_are_resampled(tmp_path: Path, suffix: str, rate: int) -> None:
    path = tmp_path / f"clip name{suffix}"
    sf.write(path, tone(1.0, rate), rate)
    audio = read_audio(path, 32000)
    assert audio.dtype == torch.float32 and audio.ndim == 1
    assert abs(audio.numel() - 32000) <= 2000  # mp3 and ogg add codec padding
    assert 0.2 < audio.abs().max() < 0.8


def test_stereo_is_downmixed(tmp_path: Path) -> None:
    stereo = tone(0.5, 8000, channels=2)
    stereo[:, 1] = 0.0
    sf.write(tmp_path / "s.wav", stereo, 8000, subtype="FLOAT")
    audio = read_audio(tmp_path / "s.wav", 8000)
    np.testing.assert_allclose(audio.numpy(), stereo[:, 0] / 2, atol=1e-6)


def test_fit_length_pads_and_cuts() -> None:
    audio = torch.arange(5.0)
    assert fit_length(audio, 3).tolist() == [0, 1, 2]
    assert fit_length(audio, 7).tolist() == [0, 1, 2, 3, 4, 0, 0]


def test_write_then_read_round_trips(tmp_path: Path) -> None:
    audio = torch.linspace(-0.5, 0.5, 2205)
    path = write_audio(tmp_path / "out" / "x.wav", audio.unsqueeze(0), 22050)
    assert sf.info(path).samplerate == 22050
    np.testing.assert_allclose(read_audio(path, 22050).numpy(), audio.numpy(), atol=1e-4)


def test_qvim_front_end_shape() -> None:
    frontend = LogMelFrontEnd()
    mel = frontend(torch.zeros(2, 320000))
    assert mel.shape == (2, 128, 1001) == (2, frontend.n_mels, frontend.frames(320000))
    assert torch.isfinite(mel).all()


def bad_files(folder: Path) -> dict[str, Path]:
    files = {"missing": folder / "nope.wav", "empty": folder / "empty.wav", "corrupt": folder / "corrupt.wav",
             "not audio": folder / "notes.wav", "nan": folder / "nan.wav"}
    files["empty"].write_bytes(b"")
    files["corrupt"].write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(40)))
    files["not audio"].write_text("this is a text file, not audio\n")
    samples = tone(0.1, 8000)
    samples[10] = np.nan
    sf.write(files["nan"], samples, 8000, subtype="FLOAT")
    return files


@pytest.mark.parametrize("kind", ["missing", "empty", "corrupt", "not audio", "nan"])
def test_bad_files_raise_naming_the_file(tmp_path: Path, kind: str) -> None:
    path = bad_files(tmp_path)[kind]
    with pytest.raises(BadAudioFile, match=path.name):
        read_audio(path, 16000)
