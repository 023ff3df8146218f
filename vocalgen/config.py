"""Where the Hydra config tree lives, and the resolvers it uses."""

from pathlib import Path

from omegaconf import OmegaConf

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
CONFIG_DIR = PROJECT_ROOT / "conf"


def register_resolvers() -> None:
    """`${project_root:}` → the checkout's absolute path (where conf/ and outputs/ live), and the
    stage resolvers of vocalgen.stages (`${stage_part:…}`, `${stage_checkpoint:…}`)."""
    from vocalgen.stages import register_stage_resolvers

    if not OmegaConf.has_resolver("project_root"):
        OmegaConf.register_new_resolver("project_root", lambda: str(PROJECT_ROOT))
    register_stage_resolvers()
