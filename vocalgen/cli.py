"""How the command-line entry points end on an expected error: one line to stderr, exit status 2."""

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode

from vocalgen.errors import VocalGenError

Task = TypeVar("Task", bound=Callable[..., Any])


def in_multirun() -> bool:
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def expected_errors_end_cleanly(task: Task) -> Task:
    """Wrap a Hydra task function: a VocalGenError (a bad file, key or checkpoint, said in words)
    prints `error: <message>` and exits with status 2, without a traceback. HYDRA_FULL_ERROR=1
    shows the traceback; inside a multirun the error is raised, so that the other jobs still run."""

    @functools.wraps(task)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return task(*args, **kwargs)
        except VocalGenError as error:
            if os.environ.get("HYDRA_FULL_ERROR") == "1" or in_multirun():
                raise
            print(f"error: {error}", file=sys.stderr)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]
