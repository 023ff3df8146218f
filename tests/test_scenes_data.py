"""The audiocaps_frames layout and its errors, the image field, the `given` split, the synthetic
scenes (determinism, scene and sound-driven element in the pictures) and their datamodule."""

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from hydra.utils import instantiate
from PIL import Image
from scipy import ndimage

from tests.conftest import compose_config
from vocalgen.data.audiocaps_frames import index_audiocaps_frames
from vocalgen.data.datamodule import ImitationDataModule
from vocalgen.data.fields import ImageField, WaveformField
from vocalgen.data.splits import split_pairs
from vocalgen.data.synthetic.pictures import BIRD_DARK, BIRD_PALE, RAIN, draw_scene, picture
from vocalgen.data.synthetic.scenes import SCENE_CAPTIONS, ensure_synthetic_scenes, sound_caption
from vocalgen.data.vimsketch import ImitationPair
from vocalgen.errors import BadImageFile, ConfigError

TINY = {"n_items": 30, "image_size": 32, "seconds": 1.0, "val_fraction": 0.2, "test_fraction": 0.2}


def write_item(split: Path, item: str, frame_suffix: str = ".png") -> None:
    """A 0.5-s 16 kHz clip `audio/<item>.wav` and a 40 × 30 frame `frames/<item><frame_suffix>`."""
    (split / "audio").mkdir(parents=True, exist_ok=True)
    (split / "frames").mkdir(parents=True, exist_ok=True)
    sf.write(split / "audio" / f"{item}.wav", 0.3 * np.sin(np.arange(8000) / 5), 16000)
    Image.new("RGB", (40, 30), (200, 60, 20)).save(split / "frames" / f"{item}{frame_suffix}")


def frames_tree(root: Path) -> Path:
    """train: a (two captions, a label), b (a jpg frame); val: c."""
    write_item(root / "train", "a")
    write_item(root / "train", "b", ".jpg")
    write_item(root / "val", "c")
    (root / "train" / "captions.csv").write_text("id,caption,label\na,a red wall,brick\na,a wall,brick\nb,a door,\n")
    (root / "val" / "captions.csv").write_text("id,caption\nc,a red room\n")
    return root


def test_index_gives_one_pair_per_caption_row(tmp_path: Path) -> None:
    pairs = index_audiocaps_frames(frames_tree(tmp_path))
    assert [(p.sound, p.caption, p.label) for p in pairs] == [("train/a", "a red wall", "brick"),
                                                             ("train/a", "a wall", "brick"),
                                                             ("train/b", "a door", "b"), ("val/c", "a red room", "c")]
    assert all(p.imitation == p.reference == tmp_path / p.extra["split"] / "audio" / f"{p.sound[-1]}.wav"
               for p in pairs)
    assert [Path(p.extra["image"]).name for p in pairs] == ["a.png", "a.png", "b.jpg", "c.png"]
    assert [p.extra["split"] for p in pairs] == ["train", "train", "train", "val"]


@pytest.mark.parametrize(("rows", "message"), [
    ("id,caption\na,a wall\nb,\n", r"train/captions.csv line 3: the caption of 'b' is empty"),
    ("id,caption\n,a wall\n", r"train/captions.csv line 2: the row names no id"),
    ("id,caption\na,a wall\ngone,a hole\n", r"line 3 names 'gone', but .*train/audio holds no audio file .*gone.wav"),
    ("id,caption\nb,a door\nd,a dog\n", r"line 3 names 'd', but .*train/frames holds no frame .*tried d.jpg, d.jpeg, "
                                        r"d.png"),
    ("file,caption\na,a wall\n", r"train/captions.csv: needs the columns 'id', 'caption'"),
])
def test_bad_rows_name_the_csv_line(tmp_path: Path, rows: str, message: str) -> None:
    root = frames_tree(tmp_path)
    write_item(root / "train", "d")
    (root / "train" / "frames" / "d.png").unlink()
    (root / "train" / "captions.csv").write_text(rows)
    with pytest.raises(ConfigError, match=message):
        index_audiocaps_frames(root)


def test_the_caption_column_is_chosen(tmp_path: Path) -> None:
    root = frames_tree(tmp_path)
    (root / "train" / "captions.csv").write_text("id,caption,sound\na,a red wall,a dog barks\nb,a door,rain\n")
    pairs = index_audiocaps_frames(root, caption_column=["sound", "caption"])  # val/ has no "sound": its caption
    assert [p.caption for p in pairs] == ["a dog barks", "rain", "a red room"]
    assert [p.caption for p in index_audiocaps_frames(root)] == ["a red wall", "a door", "a red room"]
    with pytest.raises(ConfigError, match=r"val/captions.csv: has none of the caption columns \['sound'\]"):
        index_audiocaps_frames(root, caption_column="sound")
    (root / "train" / "captions.csv").write_text("id,caption,sound\na,a red wall,\n")
    with pytest.raises(ConfigError, match=r"train/captions.csv line 2: the sound of 'a' is empty"):
        index_audiocaps_frames(root, caption_column=["sound", "caption"])


def test_missing_captions_or_split_folders_are_named(tmp_path: Path) -> None:
    root = frames_tree(tmp_path)
    (root / "val" / "captions.csv").unlink()
    with pytest.raises(ConfigError, match=r"val/captions.csv not found"):
        index_audiocaps_frames(root)
    with pytest.raises(ConfigError, match=r"holds none of the folders train, val, test"):
        index_audiocaps_frames(root / "train")


def test_given_split_follows_the_pairs_and_refuses_pairs_without_one(tmp_path: Path) -> None:
    pairs = index_audiocaps_frames(frames_tree(tmp_path))
    splits = split_pairs(pairs, "given", 0.5, 0.5, 0)
    assert {name: [p.sound for p in group] for name, group in splits.items()} == {
        "train": ["train/a", "train/a", "train/b"], "val": ["val/c"], "test": []}
    stray = ImitationPair(imitation=tmp_path / "x.wav", reference=tmp_path / "x.wav", sound="x")
    with pytest.raises(ConfigError, match=r"x.wav: data.split=given needs every pair to name its split"):
        split_pairs([*pairs, stray], "given", 0.5, 0.5, 0)


def test_image_field_crops_resizes_and_scales(tmp_path: Path) -> None:
    bands = np.zeros((30, 90, 3), np.uint8)
    bands[:, :30, 0], bands[:, 30:60, 1], bands[:, 60:, 2] = 255, 255, 255  # red | green | blue
    Image.fromarray(bands).save(tmp_path / "bands.png")
    pair = ImitationPair(imitation=tmp_path / "a.wav", reference=tmp_path / "a.wav", sound="a",
                         extra={"image": str(tmp_path / "bands.png")})
    image = ImageField(size=16).from_pair(pair)
    assert image.shape == (3, 16, 16) and image.dtype == torch.float32
    assert torch.allclose(image, torch.tensor([-1.0, 1.0, -1.0]).view(3, 1, 1).expand(3, 16, 16))  # the green centre
    with pytest.raises(ConfigError, match=r"a.wav: its pair has no image"):
        ImageField(size=16).from_pair(ImitationPair(imitation=pair.imitation, reference=pair.reference, sound="a"))


def test_unreadable_images_are_named(tmp_path: Path) -> None:
    field = ImageField(size=16)
    for name, content in (("gone.png", None), ("broken.png", b"\x89PNG\r\n\x1a\nnot really")):
        if content is not None:
            (tmp_path / name).write_bytes(content)
        pair = ImitationPair(imitation=tmp_path / "a.wav", reference=tmp_path / "a.wav", sound="a",
                             extra={"image": str(tmp_path / name)})
        with pytest.raises(BadImageFile, match=rf"{name}: (no such image file|not a readable image file)"):
            field.from_pair(pair)


@pytest.mark.parametrize("on_bad_file", ["raise", "skip"])
def test_a_corrupt_frame_raises_or_is_skipped(tmp_path: Path, on_bad_file: str) -> None:
    root = frames_tree(tmp_path / "data")
    (root / "train" / "frames" / "a.png").write_bytes(b"\x89PNG\r\n\x1a\ntruncated")
    fields = {"audio": WaveformField("reference", 16000, 1600), "image": ImageField(16)}
    datamodule = ImitationDataModule(str(root), fields, split="given", batch_size=1, layout="audiocaps_frames",
                                     cache_dir=str(tmp_path / "cache"), on_bad_file=on_bad_file)
    if on_bad_file == "raise":
        with pytest.raises(BadImageFile, match=r"train/frames/a.png: not a readable image .*on_bad_file=skip"):
            datamodule.setup()
        return
    datamodule.setup()
    assert [p.sound for p in datamodule.datasets["train"].pairs] == ["train/b"]
    batch = next(iter(datamodule.train_dataloader()))
    assert batch["image"].shape == (1, 3, 16, 16) and batch["audio"].shape == (1, 1, 1600)


# ---------------------------------------------------------------- synthetic scenes


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_synthetic_scenes(tmp_path_factory.mktemp("scenes"), **TINY)


def rows_of(folder: Path) -> list[dict[str, str]]:
    """Every captions.csv row of the split folders, each with its "split"."""
    rows = []
    for split in ("train", "val", "test"):
        with (folder / split / "captions.csv").open(newline="", encoding="utf-8") as handle:
            rows += [{**row, "split": split} for row in csv.DictReader(handle)]
    return rows


def frame(folder: Path, row: dict[str, str]) -> np.ndarray:
    """The row's picture as uint8 [size, size, 3]."""
    return np.asarray(Image.open(folder / row["split"] / "frames" / f"{row['id']}.png"))


def test_synthetic_scenes_layout(scenes: Path) -> None:
    rows = rows_of(scenes)
    assert scenes.name == "Synthetic_Scenes" and len(rows) == 30
    assert [sum(row["split"] == s for row in rows) for s in ("train", "val", "test")] == [18, 6, 6]
    assert {(row["scene"], row["label"]) for row in rows} == {(scene, sound) for scene in SCENE_CAPTIONS for sound in
                                                              ("Explosion", "Water drip", "Bird chirp", "Siren rising",
                                                               "Dog bark", "Car horn")}
    for row in rows:
        assert row["caption"] in SCENE_CAPTIONS[row["scene"]]  # the scene only, never the sound
        assert row["sound_caption"] == sound_caption(row["label"], {key: float(row[key]) for key in ("count", "f0")
                                                                    if row[key]})
        info = sf.info(scenes / row["split"] / "audio" / f"{row['id']}.wav")
        assert (info.samplerate, info.channels, info.subtype, info.frames) == (16000, 1, "PCM_16", 16000)
        assert frame(scenes, row).shape == (32, 32, 3)
    assert all(int(row["count"]) >= 1 for row in rows if row["label"] != "Explosion")
    assert all(float(row["decay_seconds"]) > 0 for row in rows if row["label"] == "Explosion")


def test_synthetic_scenes_are_deterministic_by_seed(scenes: Path, tmp_path: Path) -> None:
    again = ensure_synthetic_scenes(tmp_path / "again", **TINY)
    files = sorted(p.relative_to(scenes) for p in scenes.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert all((scenes / f).read_bytes() == (again / f).read_bytes() for f in files)
    other = ensure_synthetic_scenes(tmp_path / "other", **{**TINY, "seed": 1})
    assert (other / "train" / "captions.csv").read_bytes() != (scenes / "train" / "captions.csv").read_bytes()
    with pytest.raises(ValueError, match="n_items"):
        ensure_synthetic_scenes(scenes.parent, **{**TINY, "n_items": 31})
    with pytest.raises(ValueError, match="image_size >= 32"):
        ensure_synthetic_scenes(tmp_path / "small", **{**TINY, "image_size": 16})


def test_the_sound_caption_says_what_is_heard() -> None:
    def caption(label: str, **params: float) -> str:
        return sound_caption(label, params)

    assert caption("Dog bark", f0=250.0, count=3) == "a big dog barks three times"
    assert caption("Dog bark", f0=600.0, count=1) == "a small dog barks once"
    assert caption("Bird chirp", count=8, f_start=4000.0) == "a bird chirps eight times"
    assert caption("Explosion", decay_seconds=0.5) == "a loud explosion booms"
    assert caption("Car horn", f0=400.0, count=12) == "a car horn honks 12 times"


def test_a_folder_of_an_older_generator_is_rebuilt(scenes: Path, tmp_path: Path) -> None:
    old = tmp_path / "old" / "Synthetic_Scenes"
    shutil.copytree(scenes, old)
    marker = json.loads((old / ".complete.json").read_text())
    assert marker.pop("version") == 2
    (old / ".complete.json").write_text(json.dumps(marker))  # as version 1 wrote it: no sound_caption either
    for split in ("train", "val", "test"):
        rows = rows_of(old)
        with (old / split / "captions.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, ["id", "caption"], extrasaction="ignore")
            writer.writeheader()
            writer.writerows(row for row in rows if row["split"] == split)
    ensure_synthetic_scenes(old.parent, **TINY)
    assert rows_of(old) == rows_of(scenes)
    (old / ".complete.json").write_text(json.dumps({**marker, "seed": 5}))  # other parameters: never deleted
    with pytest.raises(ValueError, match="delete that folder"):
        ensure_synthetic_scenes(old.parent, **TINY)


def test_birds_count_the_chirps(scenes: Path) -> None:
    birds = [row for row in rows_of(scenes) if row["label"] == "Bird chirp"]
    assert len(birds) == 5
    for row in birds:
        pixels = frame(scenes, row)
        mask = np.all(pixels == BIRD_DARK, axis=-1) | np.all(pixels == BIRD_PALE, axis=-1)
        assert ndimage.label(mask, structure=np.ones((3, 3)))[1] == int(row["count"]), row


def test_the_scene_sets_the_background() -> None:
    beach, horizon = draw_scene("beach", np.random.default_rng(0), 32)
    night, _ = draw_scene("night sky", np.random.default_rng(0), 32)
    beach_sky, night_sky = (np.asarray(image)[: horizon // 2].reshape(-1, 3).mean(axis=0) for image in (beach, night))
    assert beach_sky.mean() > 150 and beach_sky[2] > beach_sky[0] and night_sky.mean() < 80
    params = {"f0": 400.0, "count": 2}
    in_city, in_forest = (np.asarray(picture(scene, "Car horn", params, np.random.default_rng(0), 32))
                          for scene in ("city", "forest"))
    assert np.abs(in_city[:8].astype(int) - in_forest[:8]).mean() > 20  # the sky differs, the cars do not reach it


def element(scene: str, sound: str, params: dict[str, float]) -> tuple[np.ndarray, int]:
    """Where `sound`'s element changed `scene` (drawn from seed 0 at 64 px): a mask [64, 64], and the horizon."""
    background, horizon = draw_scene(scene, np.random.default_rng(0), 64)
    drawn = picture(scene, sound, params, np.random.default_rng(0), 64)
    return np.any(np.asarray(drawn) != np.asarray(background), axis=-1), horizon


def test_the_element_follows_the_sound_class_and_parameters() -> None:
    birds, horizon = element("snowy field", "Bird chirp", {"count": 5, "f_start": 4000.0, "f_end": 2000.0})
    cars, _ = element("snowy field", "Car horn", {"count": 2, "f0": 400.0})
    assert birds.any() and not birds[horizon:].any()  # birds fly in the sky
    assert cars.any() and not cars[:horizon].any()  # cars drive on the ground
    big, small = (element("forest", "Dog bark", {"f0": f0, "count": 3})[0].sum() for f0 in (250.0, 600.0))
    assert big > 2 * small
    heavy, light = (np.all(np.asarray(picture("city", "Water drip", {"f0": 900.0, "count": n},
                                              np.random.default_rng(0), 64)) == RAIN, axis=-1).sum() for n in (6, 2))
    assert heavy > 2 * light
    long, short = (np.asarray(picture("night sky", "Explosion", {"decay_seconds": decay}, np.random.default_rng(0),
                                      64)).mean() for decay in (1.2, 0.4))
    assert long > short + 20


def test_synthetic_scenes_config_and_datamodule_batches(tmp_path: Path) -> None:
    default = compose_config("train", "data=synthetic_scenes")
    assert (default.data.layout, default.data.split, default.data.fields.image.size) == ("audiocaps_frames", "given",
                                                                                          64)
    assert default.data.root.endswith("/synthetic_scenes_64px")
    assert default.data.fields.audio_48k.sample_rate == 48000 and default.data.fields.imitation is None
    synthetic = ",".join(f"{key}:{value}" for key, value in TINY.items())
    cfg = compose_config("train", "data=synthetic_scenes", f"paths.output_dir={tmp_path}",
                         f"data.root={tmp_path}/data", f"data.synthetic={{{synthetic}}}", "data.batch_size=4",
                         "data.fields.image.size=64")
    datamodule = instantiate(cfg.data)
    datamodule.prepare_data()
    datamodule.setup("fit")
    assert [len(datamodule.datasets[s]) for s in ("train", "val", "test")] == [18, 6, 6]
    assert (tmp_path / "data" / "Synthetic_Scenes" / "train" / "captions.csv").is_file()
    batch = next(iter(datamodule.train_dataloader()))
    assert batch["image"].shape == (4, 3, 64, 64) and -1 <= batch["image"].min() < batch["image"].max() <= 1
    assert batch["audio_48k"].shape == (4, 1, 96000) and batch["audio_48k"][:, :, :48000].abs().amax() > 0.5
    assert len(batch["caption"]) == 4 and all(isinstance(caption, str) and caption for caption in batch["caption"])
