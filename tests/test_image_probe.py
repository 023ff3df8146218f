"""The probe classifiers that judge generated pictures: they learn what the real pictures show, the same
seed gives the same probe, and a mirrored picture reads the same."""

import torch

from vocalgen.metrics.image_probe import accuracy, probe_outputs, train_probe

CLASSES = {"colour": ["red", "blue"], "place": ["top", "bottom"]}


def pictures(count: int, seed: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Noisy 32 × 32 pictures tinted red or blue with a white square in the top or the bottom half
    (anywhere left to right), and their class indices."""
    source = torch.Generator().manual_seed(seed)
    colour = torch.randint(0, 2, (count,), generator=source)
    place = torch.randint(0, 2, (count,), generator=source)
    images = torch.rand(count, 3, 32, 32, generator=source) * 0.6 - 0.8
    images[colour == 0, 0] += 0.8
    images[colour == 1, 2] += 0.8
    for i in range(count):
        top = 2 + 16 * int(place[i]) + int(torch.randint(0, 6, (), generator=source))
        left = int(torch.randint(0, 24, (), generator=source))
        images[i, :, top:top + 8, left:left + 8] = 1.0
    return images, {"colour": colour, "place": place}


def test_a_probe_learns_each_target_from_real_pictures_and_tells_them_apart_on_new_ones() -> None:
    images, targets = pictures(96, seed=0)
    probe = train_probe(images, targets, CLASSES, epochs=15, seed=0)
    held_out, truth = pictures(48, seed=1)
    predicted, features = probe_outputs(probe, held_out)
    assert features.shape == (48, 64)
    assert accuracy(predicted["colour"], truth["colour"]) == 1.0
    assert accuracy(predicted["place"], truth["place"]) >= 0.9
    predicted_mirrored, _ = probe_outputs(probe, held_out.flip(-1))
    assert accuracy(predicted_mirrored["place"], truth["place"]) >= 0.9


def test_the_same_seed_trains_the_same_probe() -> None:
    images, targets = pictures(32, seed=0)
    first, second = (train_probe(images, targets, CLASSES, epochs=2, seed=3) for _ in range(2))
    for (name, value), other in zip(first.state_dict().items(), second.state_dict().values()):
        assert torch.equal(value, other), name
    assert not torch.equal(first.heads["colour"].weight,
                           train_probe(images, targets, CLASSES, epochs=2, seed=4).heads["colour"].weight)
