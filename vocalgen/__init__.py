"""vocalgen: a Hydra-configured experiment framework for generative audio research."""

import os
import sys

# No network unless asked for: Hugging Face libraries (pulled in by laion-clap and transformers)
# read these when first imported, so they are set before anything imports them. Set them to 0
# in the environment to allow hub downloads.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Imported before us (lightning imports it), huggingface_hub has read the flag already: set its copy.
if "huggingface_hub.constants" in sys.modules:
    offline = os.environ["HF_HUB_OFFLINE"].upper() in ("1", "ON", "YES", "TRUE")
    sys.modules["huggingface_hub.constants"].HF_HUB_OFFLINE = offline

__version__ = "0.1.0"
