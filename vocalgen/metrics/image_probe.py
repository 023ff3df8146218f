"""A small CNN trained on real images to recognise named properties (e.g. the scene and the visual
element of a synthetic scene): the judge of generated images, and its pooled features the space of
their Fréchet distance."""

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

PROBE_CHANNELS = (16, 32, 64, 64)  # four stride-2 convolution blocks: 64 px → 4 px


class ImageProbe(nn.Module):
    """images [B, 3, H, W] in [-1, 1] → {target: logits [B, len(classes[target])]}: one shared
    convolutional trunk, one linear head a target. `features` gives the trunk's pooled output
    [B, PROBE_CHANNELS[-1]]."""

    def __init__(self, classes: Mapping[str, Sequence[str]]) -> None:
        super().__init__()
        self.classes = {name: list(names) for name, names in classes.items()}
        blocks, width = [], 3
        for channels in PROBE_CHANNELS:
            blocks += [nn.Conv2d(width, channels, 3, stride=2, padding=1), nn.GroupNorm(8, channels), nn.SiLU()]
            width = channels
        self.trunk = nn.Sequential(*blocks)
        self.heads = nn.ModuleDict({name: nn.Linear(width, len(names)) for name, names in self.classes.items()})

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """images [B, 3, H, W] → pooled trunk features [B, C]."""
        return self.trunk(images).mean(dim=(2, 3))

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.features(images)
        return {name: head(features) for name, head in self.heads.items()}


def train_probe(images: torch.Tensor, targets: Mapping[str, torch.Tensor], classes: Mapping[str, Sequence[str]],
                epochs: int = 40, batch_size: int = 32, lr: float = 2e-3, seed: int = 0) -> ImageProbe:
    """An ImageProbe fitted to images [N, 3, H, W] and class indices {target: [N]} by Adam on the
    sum of the targets' cross-entropies, each batch flipped left-right at random (scenes and
    elements read the same mirrored). Deterministic by `seed` (the global random state is left as it was);
    returned in eval mode."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        probe = ImageProbe(classes)
    optimiser = torch.optim.Adam(probe.parameters(), lr=lr)
    shuffler = torch.Generator().manual_seed(seed)
    probe.train()
    for _ in range(epochs):
        order = torch.randperm(len(images), generator=shuffler)
        for start in range(0, len(images), batch_size):
            rows = order[start:start + batch_size]
            batch = images[rows]
            flip = torch.rand(len(rows), generator=shuffler) < 0.5
            batch = torch.where(flip.view(-1, 1, 1, 1), batch.flip(-1), batch)
            logits = probe(batch)
            loss = sum(F.cross_entropy(logits[name], targets[name][rows]) for name in probe.classes)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return probe.eval()


@torch.no_grad()
def probe_outputs(probe: ImageProbe, images: torch.Tensor, batch_size: int = 64
                  ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """images [N, 3, H, W] → ({target: predicted class index [N]}, features [N, C])."""
    predictions: dict[str, list[torch.Tensor]] = {name: [] for name in probe.classes}
    features = []
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size].float()
        pooled = probe.features(batch)
        features.append(pooled)
        for name, head in probe.heads.items():
            predictions[name].append(head(pooled).argmax(-1))
    return {name: torch.cat(parts) for name, parts in predictions.items()}, torch.cat(features)


def accuracy(predicted: torch.Tensor, expected: torch.Tensor) -> float:
    """The fraction of rows where predicted [N] equals expected [N]."""
    return float((predicted == expected).float().mean())
