"""How the command-line entry points end on an expected error: one line to stderr, exit status 2."""

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import CompactHydraException
from hydra.types import RunMode

from vocalgen.config import CONFIG_DIR
from vocalgen.errors import VocalGenError

Task = TypeVar("Task", bound=Callable[..., Any])


def in_multirun() -> bool:
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def expected_message(error: BaseException) -> str | None:
    """What to tell the user of an expected error: a VocalGenError's message (also when omegaconf wraps
    it, e.g. raised while an interpolation resolved), or the key of a mandatory value (???) left unset;
    None for anything else (a bug: its traceback is shown)."""
    from omegaconf.errors import MissingMandatoryValue, OmegaConfBaseException

    inner: BaseException | None = error
    while isinstance(inner, OmegaConfBaseException):  # omegaconf wraps twice and drops __cause__
        inner = inner.__cause__ or inner.__context__
    if isinstance(inner, VocalGenError):
        return str(inner)
    if isinstance(error, MissingMandatoryValue):
        key = getattr(error, "full_key", None) or "a key"
        return f"{key} has no value (??? in the config): set it on the command line, {key}=…"
    return None


def expected_errors_end_cleanly(task: Task) -> Task:
    """Wrap a Hydra task function: an expected error (expected_message: a bad file, key or checkpoint,
    said in words; a mandatory key left unset) prints `error: <message>` and exits with status 2,
    without a traceback. HYDRA_FULL_ERROR=1 shows the traceback; inside a multirun the error is raised,
    so that the other jobs still run."""

    @functools.wraps(task)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return task(*args, **kwargs)
        except Exception as error:
            message = expected_message(error)
            if message is None or os.environ.get("HYDRA_FULL_ERROR") == "1" or in_multirun():
                raise
            print(f"error: {message}", file=sys.stderr)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def command(config_name: str) -> Callable[[Callable[[Any], Any]], Callable[[], Any]]:
    """Make a task function `task(cfg)` the entry point of a command composed from `conf/<config_name>.yaml`:
    Hydra's main (overrides, --help, -m, shell completion) around expected_errors_end_cleanly. A command
    line Hydra cannot compose (an unknown key, a bad override, a missing config group option) keeps
    Hydra's own short message and exits with status 2 instead of Hydra's 1, like every other expected
    error; any other exit passes through."""

    def decorate(task: Callable[[Any], Any]) -> Callable[[], Any]:
        hydra_main = hydra.main(version_base="1.3", config_path=str(CONFIG_DIR),
                                config_name=config_name)(expected_errors_end_cleanly(task))

        @functools.wraps(task)
        def entry_point() -> Any:
            try:
                return hydra_main()
            except SystemExit as exit_:
                # Hydra reports a composition error and exits 1 while handling it: it is the exit's context.
                if exit_.code == 1 and isinstance(exit_.__context__, CompactHydraException):
                    raise SystemExit(2) from None
                raise

        return entry_point

    return decorate
