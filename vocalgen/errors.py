"""Exceptions that name the thing at fault and say what to do."""


class VocalGenError(Exception):
    """Base class of vocalgen's user-facing errors."""


class BadDataFile(VocalGenError):
    """A data file that cannot be used; `data.on_bad_file=skip` leaves its pair out."""


class BadAudioFile(BadDataFile):
    """An audio file that cannot be used (missing, empty, corrupt, not audio, NaN samples)."""


class BadImageFile(BadDataFile):
    """An image file that cannot be used (missing, corrupt, not an image)."""


class ConfigError(VocalGenError):
    """A configuration value that is missing, unknown or inconsistent."""


class CheckpointError(VocalGenError):
    """A checkpoint (or MLflow run) that does not exist or does not fit."""
