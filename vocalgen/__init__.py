"""vocalgen: a Hydra-configured experiment framework for generative audio research."""

__version__ = "0.1.0"
