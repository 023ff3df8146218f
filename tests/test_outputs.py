"""Output kinds: how generated audio and images are written (files, labelled examples, overviews)."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from PIL import Image

from vocalgen.conditions import build_requests
from vocalgen.errors import ConfigError
from vocalgen.outputs import AudioOutput, ImageOutput
from vocalgen.outputs.image import LABEL_HEIGHT


def test_an_image_item_in_minus_one_to_one_is_written_as_the_rgb_png_it_stands_for(tmp_path: Path) -> None:
    item = torch.full((3, 4, 6), -1.0)
    item[0] = 1.0  # pure red
    item[:, 0, 0] = 0.0  # mid grey in the corner
    path = ImageOutput(4, 6).write(tmp_path / "sub" / "red_bpm90.5", item)
    pixels = np.asarray(Image.open(path))
    assert path.name == "red_bpm90.5.png" and pixels.shape == (4, 6, 3)  # a dot in the name stays
    assert pixels[1, 1].tolist() == [255, 0, 0] and pixels[0, 0].tolist() == [128, 128, 128]


def test_an_image_overview_is_a_grid_of_every_item_under_its_name(tmp_path: Path) -> None:
    items = {f"{i}": torch.full((3, 8, 8), -1.0 + i / 2) for i in range(5)}  # black to white
    path = ImageOutput(8, 8).overview(tmp_path / "grid.png", items, columns=3)
    sheet = np.asarray(Image.open(path))
    assert sheet.shape == (2 * (8 + LABEL_HEIGHT), 3 * 8, 3)
    cell = sheet[8 + LABEL_HEIGHT + LABEL_HEIGHT + 4, 8 + 4]  # second row, second column: item 4
    assert cell.tolist() == [255, 255, 255]


def test_an_audio_example_is_its_wav_files_and_one_spectrogram_picture(tmp_path: Path) -> None:
    rate = 8000
    items = {"target": torch.randn(1, rate) * 0.1, "generated": torch.zeros(1, rate)}
    written = AudioOutput(rate).write_example(tmp_path, 0, items)
    assert [p.name for p in written] == ["0_target.wav", "0_generated.wav", "0.png"]
    assert sf.info(written[0]).samplerate == rate and sf.info(written[0]).frames == rate
    one = AudioOutput(rate).overview(tmp_path / "one.png", {"target": items["target"]})
    assert Image.open(written[2]).size[1] > Image.open(one).size[1]  # a panel for each clip


class CaptionAndAudioEncoder(torch.nn.Module):
    """Stands in for a trained encoder that reads a caption and a 16-kHz waveform field."""

    def __init__(self) -> None:
        super().__init__()
        self.text, self.audio = torch.nn.Module(), torch.nn.Module()
        self.text.field, self.audio.field = "caption", "audio_16k"


def test_one_sound_under_several_prompts_makes_one_request_a_prompt(tmp_path: Path) -> None:
    sound = tmp_path / "thunder.wav"
    sf.write(sound, np.zeros(1600, dtype=np.float32), 16000)
    config = {"data": {"fields": {"audio_16k": {"_target_": "vocalgen.data.fields.WaveformField",
                                                "source": "reference", "sample_rate": 16000, "samples": 1600}}}}
    requests = build_requests(config, CaptionAndAudioEncoder(), [sound], ["a beach", "a city", "a beach"])
    assert [r.name for r in requests] == ["thunder_a_beach", "thunder_a_city", "thunder_a_beach_2"]
    assert [r.item["caption"] for r in requests] == ["a beach", "a city", "a beach"]
    assert all(r.item["audio_16k"].shape == (1, 1600) for r in requests)
    with pytest.raises(ConfigError, match="2 values of input for 3 outputs"):
        build_requests(config, CaptionAndAudioEncoder(), [sound, sound], ["a", "b", "c"])
