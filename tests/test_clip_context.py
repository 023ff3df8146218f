"""The clip's summary on every frame (generator.clip_context): frames that look alike locally can still tell
their clips apart."""

import torch

from tests.test_pitch_guide import guided_decoder
from vocalgen.generators.clip_context import ClipContext, clip_summary
from vocalgen.losses.pitch import PitchCrossEntropy


def test_the_context_starts_as_nothing_and_reaches_every_frame() -> None:
    context = ClipContext(4)
    features = torch.randn(2, 30, 4)
    torch.testing.assert_close(context(features), features)          # zero projection: the decoder as without it
    torch.nn.init.normal_(context.project.weight)
    changed = features.clone()
    changed[:, -1] += 5.0                                            # only the last frame changes
    difference = context(changed) - context(features)
    assert difference[:, 0].abs().min() > 0                          # … and the first frame's output moves
    assert clip_summary(features).shape == (2, 8)


def events_far_apart(decoder_frames: int) -> tuple[dict, dict]:
    """Two clips alike over frames 0-40 (same latent, no guide there) whose guides differ only at frames 50-60, and
    whose targets hold a pitched event at frames 5-10: 220 Hz in one, 880 Hz in the other."""
    guide = torch.zeros(2, 80)
    guide[0, 50:60] = 300.0
    pitch = torch.zeros(2, decoder_frames)
    pitch[0, 5:10], pitch[1, 5:10] = 220.0, 880.0
    return {"audio": torch.zeros(2, 1, 4000), "pitch": pitch}, {"latent": torch.zeros(2, 4).add(0.5), "pitch": guide}


def trained_event_pitch(clip_context: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """The decoder's pitch classes at the event frames [2, 5] after 80 steps of pitch loss, and the targets'."""
    torch.manual_seed(0)
    decoder = guided_decoder(clip_context=clip_context)
    batch, condition = events_far_apart(decoder.frames.frames)
    optimizer = torch.optim.Adam(decoder.parameters(), lr=1e-2)
    for _ in range(80):
        optimizer.zero_grad()
        outputs = decoder.training_forward(batch, condition)
        PitchCrossEntropy()(outputs).backward()
        optimizer.step()
    return outputs["pitch_logits"][:, 5:10].argmax(-1), outputs["pitch_target"][:, 5:10]


def test_an_event_learns_its_clips_pitch_only_with_the_clips_context() -> None:
    without, target = trained_event_pitch(clip_context=False)
    assert torch.equal(without[0], without[1]) and not torch.equal(without, target)   # alike frames, alike pitch
    with_context, target = trained_event_pitch(clip_context=True)
    assert torch.equal(with_context, target)
