"""The CPU's bf16 support decides trainer=cpu's precision: bf16 autocast only where the CPU has AMX or
AVX-512 BF16 (emulated bf16 is slower than fp32), fp32 elsewhere, and the machine is named on every run."""

from pathlib import Path

import pytest

from tests.conftest import compose_config
from vocalgen import hardware

XEON = ("processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\n"
        "flags\t\t: fpu sse avx2 avx512f avx512_bf16 amx_bf16 amx_tile\n\nprocessor\t: 1\n")
EPYC = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse avx avx2\n"


@pytest.fixture
def cpuinfo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def write(text: str | None) -> None:
        path = tmp_path / ("cpuinfo" if text is not None else "absent")
        if text is not None:
            path.write_text(text)
        monkeypatch.setattr(hardware, "CPUINFO", path)
        hardware.cpu_facts.cache_clear()

    yield write
    hardware.cpu_facts.cache_clear()


def test_bf16_autocast_only_where_the_cpu_has_bf16_matrix_instructions(cpuinfo) -> None:
    cpuinfo(XEON)
    assert hardware.bf16_instructions() == ["amx_bf16", "avx512_bf16"] and hardware.cpu_precision() == "bf16-mixed"
    assert hardware.cpu_summary().startswith("Intel(R) Xeon(R) Platinum 8480+, ")
    assert hardware.cpu_summary().endswith(" cores, amx_bf16 avx512_bf16 avx512f avx2")
    cpuinfo(EPYC)
    assert hardware.bf16_instructions() == [] and hardware.cpu_precision() == "32-true"
    assert hardware.cpu_summary().endswith(" cores, avx2")
    cpuinfo(None)  # not Linux: nothing detected, fp32
    assert hardware.cpu_precision() == "32-true" and hardware.cpu_summary().startswith("unknown, ")


def test_trainer_cpu_takes_the_detected_precision_unless_overridden(cpuinfo) -> None:
    cpuinfo(XEON)
    assert compose_config("train", "trainer=cpu").trainer.precision == "bf16-mixed"
    assert compose_config("train", "trainer=cpu", "trainer.precision=32-true").trainer.precision == "32-true"
    cpuinfo(EPYC)
    assert compose_config("train", "trainer=cpu").trainer.precision == "32-true"


def test_the_bench_measures_the_precision_trainer_cpu_picks_first(cpuinfo) -> None:
    from bench.variants import default_variants

    cpuinfo(XEON)
    assert default_variants() == ["bf16", "fp32", "compiled"]
    cpuinfo(EPYC)
    assert default_variants() == ["fp32", "bf16", "compiled"]
