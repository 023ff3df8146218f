"""The evaluations an experiment lists (`evaluators`), how the command's options reach them, and the
reading of checkpoints saved before experiments listed them."""

import pytest

from vocalgen.errors import ConfigError
from vocalgen.evaluation.generation import GenerationEvaluation
from vocalgen.evaluation.job import build_evaluations, recorded_evaluators
from vocalgen.evaluation.retrieval import RetrievalEvaluation
from vocalgen.evaluation.tempo import TempoEvaluation


def test_options_reach_only_the_evaluations_that_take_them_and_null_keeps_the_configured_value() -> None:
    config = {"evaluators": {
        "generation": {"_target_": "vocalgen.evaluation.generation.GenerationEvaluation", "conditions": ["caption"]},
        "tempo": {"_target_": "vocalgen.evaluation.tempo.TempoEvaluation", "bpms": [100], "per_bpm": 2},
        "dropped": None}}
    built = build_evaluations(config, None, {"bpms": [90, 120], "per_bpm": None, "baselines": False})
    assert set(built) == {"generation", "tempo"}
    assert built["tempo"].bpms == [90.0, 120.0] and built["tempo"].per_bpm == 2
    assert built["generation"].conditions == ["caption"] and built["generation"].baselines is False
    (only,) = build_evaluations(config, ["tempo"], {}).values()
    assert isinstance(only, TempoEvaluation)
    with pytest.raises(ConfigError, match=r"evaluators=\['fd'\].*lists \['generation', 'tempo'\]"):
        build_evaluations(config, ["fd"], {})
    with pytest.raises(ConfigError, match="bpms="):  # the evaluation's own check, not wrapped by Hydra
        build_evaluations(config, None, {"bpms": [0]})


def test_a_checkpoint_saved_before_evaluators_were_listed_is_evaluated_as_before() -> None:
    retrieval = build_evaluations({"metrics": {"mrr": {}}}, None, {})
    assert [type(e) for e in retrieval.values()] == [RetrievalEvaluation]
    (generation,) = build_evaluations({"metrics": {}, "evaluate_conditions": ["imitation"]}, None, {}).values()
    assert isinstance(generation, GenerationEvaluation) and generation.conditions == ["imitation"]
    assert recorded_evaluators({"evaluators": None, "metrics": {"mrr": {}}}) == {}
    loops = {"metrics": {}, "data": {"fields": {"audio_24k": {}, "beat_phase": {"_target_": "…"}}}}
    assert [type(e) for e in build_evaluations(loops, None, {}).values()] == [TempoEvaluation]
    assert set(recorded_evaluators({**loops, "evaluate_conditions": ["audio_48k"]})) == {"tempo", "generation"}
