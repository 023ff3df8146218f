"""The pre-encoded item cache (data.cache): what goes in comes back, once, and only for the same weights."""

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from vocalgen.data.dataset import ImitationPairDataset
from vocalgen.data.fields import WaveformField
from vocalgen.data.pre_encoded import PreEncodedDataset, pre_encoded
from vocalgen.data.vimsketch import index_vimsketch
from vocalgen.errors import ConfigError


def encode(batch: dict) -> dict:
    """A stand-in pretransform and encoder: latents [B, 2, 4] and named conditions from the audio."""
    audio = batch["audio"][:, 0, :8]
    return {"latents": audio.reshape(-1, 2, 4) * 3, "encoded": {"mean": audio.mean(dim=1), "first": audio[:, :2]}}


@pytest.fixture
def dataset(data_root: Path) -> ImitationPairDataset:
    pairs = index_vimsketch(data_root / "Vim_Sketch_Dataset")[:6]
    return ImitationPairDataset(pairs, {"audio": WaveformField("reference", 16000, 1600)})


def test_items_round_trip_with_their_metadata_and_are_encoded_once(dataset, tmp_path: Path) -> None:
    calls = []

    def counting(batch: dict) -> dict:
        calls.append(len(batch["index"]))
        return encode(batch)

    cached = pre_encoded(dataset, counting, tmp_path / "cache", {"pretransform": "a", "encoder": "b"}, batch_size=4)
    assert isinstance(cached, PreEncodedDataset) and len(cached) == len(dataset) and calls == [4, 2]
    for index in range(len(dataset)):
        item, original = cached[index], dataset[index]
        expected = encode({"audio": original["audio"].unsqueeze(0)})
        assert torch.equal(item["latents"], expected["latents"][0])
        assert torch.equal(item["encoded"]["first"], expected["encoded"]["first"][0])
        assert item["caption"] == original["caption"] and item["reference_id"] == original["reference_id"]
        assert "audio" not in item
    pre_encoded(dataset, counting, tmp_path / "cache", {"pretransform": "a", "encoder": "b"}, batch_size=4)
    assert calls == [4, 2]  # the second run reads what the first wrote


def test_a_cache_of_other_weights_is_refused_by_name(dataset, tmp_path: Path) -> None:
    pre_encoded(dataset, encode, tmp_path / "cache", {"pretransform": "a", "encoder": "b"}, batch_size=4)
    with pytest.raises(ConfigError, match=r"data.cache=.*cache was pre-encoded by other weights \(pretransform a → c"):
        pre_encoded(dataset, encode, tmp_path / "cache", {"pretransform": "c", "encoder": "b"}, batch_size=4)


def test_each_caption_of_a_clip_has_its_own_entry(dataset, tmp_path: Path) -> None:
    """A text encoder's output is cached too, and AudioCaps-style tables give a clip several captions."""
    clip = dataset.pairs[0]
    twice = ImitationPairDataset([replace(clip, caption="a dog barks"), replace(clip, caption="rain falls")],
                                 dataset.fields)

    def caption_length(batch: dict) -> dict:
        return {"latents": batch["audio"][:, 0, :4], "encoded": torch.tensor([float(len(c)) for c in batch["caption"]])}

    cached = pre_encoded(twice, caption_length, tmp_path / "cache", {"pretransform": "a", "encoder": "b"}, batch_size=2)
    assert [float(cached[i]["encoded"]) for i in range(2)] == [11.0, 10.0]
