"""Exceptions that name the thing at fault and say what to do."""


class VocalGenError(Exception):
    """Base class of vocalgen's user-facing errors."""


class BadAudioFile(VocalGenError):
    """An audio file that cannot be used (missing, empty, corrupt, not audio, NaN samples)."""


class ConfigError(VocalGenError):
    """A configuration value that is missing, unknown or inconsistent."""


class CheckpointError(VocalGenError):
    """A checkpoint (or MLflow run) that does not exist or does not fit."""
