"""A digest of what a training run's result depends on: reuse a finished run instead of retraining it."""

import hashlib
import json

from omegaconf import DictConfig, OmegaConf

DIGEST_TAG = "vocalgen.config_digest"

# Keys that name where and how a run is recorded or later evaluated, not what it learns (a resumed run
# keeps its digest).
RECORDING_KEYS = ("paths", "callbacks", "logger", "ckpt_path", "run_name", "tags", "hydra", "evaluators")


def config_digest(cfg: DictConfig) -> str:
    """16 hex digits over the composed config, interpolations as written (they refer to the config
    itself, so a changed source value changes the digest) and without RECORDING_KEYS. Earlier
    stages enter as the run ids or paths that the config names."""
    container = OmegaConf.to_container(cfg, resolve=False)
    kept = {key: value for key, value in container.items() if key not in RECORDING_KEYS}
    text = json.dumps(kept, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
