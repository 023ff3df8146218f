"""How the entry points end on an error: expected ones as one line and status 2, bugs with their traceback."""

import pytest
from omegaconf import OmegaConf
from omegaconf.errors import InterpolationResolutionError, MissingMandatoryValue

from vocalgen.cli import expected_errors_end_cleanly
from vocalgen.errors import BadAudioFile, ConfigError


def ends_with(error: BaseException, capsys: pytest.CaptureFixture) -> tuple[int, str]:
    """The exit status and stderr of a wrapped task that raises `error`."""

    @expected_errors_end_cleanly
    def task() -> None:
        raise error

    with pytest.raises(SystemExit) as exit_:
        task()
    return exit_.value.code, capsys.readouterr().err


def test_a_vocalgen_error_is_one_line_and_status_2(capsys: pytest.CaptureFixture) -> None:
    status, printed = ends_with(BadAudioFile("/data/a.wav: not an audio file. Replace or remove it."), capsys)
    assert status == 2 and printed == "error: /data/a.wav: not an audio file. Replace or remove it.\n"


def refuse(value: str) -> str:
    raise ConfigError(f"qvim_checkpoint: checkpoint {value} is a 'clap_gpt2' stage")


def test_a_vocalgen_error_raised_while_omegaconf_resolves_is_told_as_itself(capsys: pytest.CaptureFixture) -> None:
    OmegaConf.register_new_resolver("test_refuse", refuse, replace=True)
    cfg = OmegaConf.create({"encoder": "${test_refuse:x.ckpt}"})
    with pytest.raises(InterpolationResolutionError) as wrapped:
        _ = cfg.encoder
    status, printed = ends_with(wrapped.value, capsys)
    assert status == 2 and printed == "error: qvim_checkpoint: checkpoint x.ckpt is a 'clap_gpt2' stage\n"


def test_an_unset_mandatory_key_names_the_key(capsys: pytest.CaptureFixture) -> None:
    cfg = OmegaConf.create({"data": {"root": "???"}})
    with pytest.raises(MissingMandatoryValue) as missing:
        _ = cfg.data.root
    status, printed = ends_with(missing.value, capsys)
    assert status == 2 and printed.startswith("error: data.root has no value") and printed.count("\n") == 1


def test_a_bug_keeps_its_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    @expected_errors_end_cleanly
    def task() -> None:
        raise ZeroDivisionError("a bug")

    with pytest.raises(ZeroDivisionError):
        task()
    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")

    @expected_errors_end_cleanly
    def expected() -> None:
        raise ConfigError("shown in full when asked")

    with pytest.raises(ConfigError):
        expected()
