"""The interface of an output kind: write one generated item, a labelled example, an overview."""

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import torch


class OutputKind(ABC):
    """How items of one modality are written. An item is one generated output without its batch
    dimension (audio [1, N]; an image [3, H, W] in [-1, 1])."""

    suffix: str  # of the file `write` makes, e.g. ".wav"

    @abstractmethod
    def write(self, path: Path, item: torch.Tensor) -> Path:
        """Write `item` to `path` with `suffix` added (see `file`); returns the file."""

    def file(self, path: Path) -> Path:
        """`path` ending in `suffix`: added to the name (a dot in it, as in `bpm90.5`, stays)."""
        path = Path(path)
        return path if path.suffix == self.suffix else path.with_name(path.name + self.suffix)

    @abstractmethod
    def example_inputs(self, pair: Any) -> dict[str, torch.Tensor]:
        """Items of the same kind that show what a data pair's condition was (e.g. the imitation's
        audio beside generated audio); empty when the condition is of another kind."""

    @abstractmethod
    def overview(self, path: Path, items: dict[str, torch.Tensor]) -> Path:
        """One PNG of the named items side by side (spectrograms, or an image grid); returns `path`."""

    def write_example(self, folder: Path, index: int, items: dict[str, torch.Tensor]) -> list[Path]:
        """`<index>_<name><suffix>` for each named item (input, target, generated …) and their
        overview `<index>.png` in `folder`."""
        written = [self.write(folder / f"{index}_{name}", item) for name, item in items.items()]
        return [*written, self.overview(folder / f"{index}.png", items)]
