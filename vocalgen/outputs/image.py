"""Image output: PNG files and labelled image grids."""

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw

from .kind import OutputKind

LABEL_HEIGHT = 12  # pixels of caption strip above each grid cell


def to_pixels(item: torch.Tensor) -> np.ndarray:
    """An image [3, H, W] (or [1, H, W]) in [-1, 1] → uint8 [H, W, 3]."""
    image = item.detach().float().cpu()
    if image.dim() != 3 or image.shape[0] not in (1, 3):
        raise ValueError(f"an image item is [3, H, W] or [1, H, W], got {tuple(item.shape)}")
    image = image.expand(3, -1, -1) if image.shape[0] == 1 else image
    return ((image.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).numpy()


class ImageOutput(OutputKind):
    """Items are RGB images [3, height, width] in [-1, 1]."""

    suffix = ".png"

    def __init__(self, height: int, width: int) -> None:
        self.height = height
        self.width = width

    def write(self, path: Path, item: torch.Tensor) -> Path:
        path = self.file(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(to_pixels(item)).save(path)
        return path

    def example_inputs(self, pair: Any) -> dict[str, torch.Tensor]:
        """Nothing: the condition (audio, a caption) is not an image; the target image is shown anyway."""
        return {}

    def overview(self, path: Path, items: dict[str, torch.Tensor], columns: int | None = None) -> Path:
        """A grid of the items, each under a strip with its name, at most `columns` a row (default: all
        in one row up to 8)."""
        columns = columns or min(len(items), 8)
        rows = math.ceil(len(items) / columns)
        cell_height, cell_width = self.height + LABEL_HEIGHT, self.width
        sheet = Image.new("RGB", (columns * cell_width, rows * cell_height), "white")
        draw = ImageDraw.Draw(sheet)
        for index, (name, item) in enumerate(items.items()):
            left, top = (index % columns) * cell_width, (index // columns) * cell_height
            draw.text((left + 2, top), name[: max(1, cell_width // 6)], fill="black")
            cell = Image.fromarray(to_pixels(item)).resize((cell_width, self.height))
            sheet.paste(cell, (left, top + LABEL_HEIGHT))
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        sheet.save(path)
        return path

    def __repr__(self) -> str:
        return f"ImageOutput(height={self.height}, width={self.width})"
