"""vocalgen: a Hydra-configured experiment framework for generative audio research."""

import os

# No network unless asked for: Hugging Face libraries (pulled in by laion-clap and transformers)
# read these when first imported, so they are set before anything imports them. Set them to 0
# in the environment to allow hub downloads.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

__version__ = "0.1.0"
