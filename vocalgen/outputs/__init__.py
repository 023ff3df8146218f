"""What a generator makes and how it is written: audio (wav + spectrogram PNG) or images (PNG + grid).

generate, evaluate and the sample callback ask the generator for its `output` kind and write through
it, so that no tool branches on the system it runs."""

from .audio import AudioOutput
from .image import ImageOutput
from .kind import OutputKind

__all__ = ["AudioOutput", "ImageOutput", "OutputKind"]
