"""Aligning a training target in time with its query: a vocal imitation starts later or earlier than the sound it
imitates (an unknown lag per imitation) and runs a little faster or slower (so the lag grows over the clip); a
decoder that works in the imitation's time cannot know where the target's short events lie. Trained on the target
moved to the imitation's timing, it can place them where the imitation has them.

A move is given as source frames [B, T] (long): output frame t of the moved target is the target's frame
sources[b, t], −1 where nothing is taken (zeros). `clip_sources` moves a whole clip by one lag, `stretch_sources`
each pitched stretch by its own; `moved` applies either to frames or to samples."""

import torch
from torch.nn import functional as F


def best_lags(query_active: torch.Tensor, target_active: torch.Tensor, max_lag: int) -> torch.Tensor:
    """query_active, target_active [B, T] (bool: frames where each is sounding or pitched) → lags [B] (long) in
    −max_lag … max_lag: the delay of the target that makes the most of its active frames meet active frames of the
    query (ties go to the lag nearest 0; an item whose target or query has no active frame gets 0)."""
    query, target = query_active.float(), target_active.float()
    lags = torch.arange(-max_lag, max_lag + 1, device=query.device)
    # [B, lags, T]: row j is the target delayed by lags[j] (zero-filled)
    shifted = F.pad(target, (max_lag, max_lag)).unfold(-1, target.shape[-1], 1).flip(1)
    overlaps = (shifted * query.unsqueeze(1)).sum(-1)
    scores = overlaps - 1e-3 * lags.abs()      # less than one frame of overlap: only breaks ties
    return lags[scores.argmax(-1)]


def clip_sources(lags: torch.Tensor, frames: int) -> torch.Tensor:
    """lags [B] (long) → source frames [B, frames]: every item delayed whole by its lag (earlier where negative)."""
    sources = torch.arange(frames, device=lags.device) - lags.view(-1, 1)
    return torch.where((sources >= 0) & (sources < frames), sources, -1)


def stretches(active: torch.Tensor, bridge: int) -> list[tuple[int, int]]:
    """active [T] (bool) → the (start, stop) frame ranges of its runs of active frames, runs separated by at most
    `bridge` inactive frames joined into one."""
    runs: list[tuple[int, int]] = []
    edges = torch.diff(F.pad(active.int(), (1, 1))).nonzero().flatten().tolist()
    for start, stop in zip(edges[::2], edges[1::2]):
        if runs and start - runs[-1][1] <= bridge:
            runs[-1] = (runs[-1][0], stop)
        else:
            runs.append((start, stop))
    return runs


def stretch_lags(query_active: torch.Tensor, runs: list[tuple[int, int]], max_lag: int, start_lag: int) -> list[int]:
    """query_active [T] (bool) and the target's stretches (in order) → one lag per stretch in −max_lag … max_lag,
    chosen in order: the lag that lays most of the stretch on active query frames, among those that keep it after
    the previous moved stretch (ties: the lag nearest the previous stretch's, the first's nearest `start_lag`)."""
    frames = query_active.shape[-1]
    covered = F.pad(query_active.float().cumsum(0), (1, 0))      # covered[j]: active query frames before j
    lags = torch.arange(-max_lag, max_lag + 1, device=query_active.device)
    chosen: list[int] = []
    previous_lag, previous_end = start_lag, -frames - max_lag
    for start, stop in runs:
        overlaps = covered[(stop + lags).clamp(0, frames)] - covered[(start + lags).clamp(0, frames)]
        scores = overlaps - 1e-3 * (lags - previous_lag).abs()
        scores = torch.where(start + lags >= previous_end, scores, -torch.inf)   # the previous lag always qualifies
        previous_lag = int(lags[scores.argmax()])
        previous_end = stop + previous_lag
        chosen.append(previous_lag)
    return chosen


def stretch_sources(query_active: torch.Tensor, target_active: torch.Tensor, max_lag: int,
                    bridge: int = 2) -> torch.Tensor:
    """query_active, target_active [B, T] (bool) → source frames [B, T] that move each stretch of active target
    frames (runs joined across gaps of ≤ `bridge` frames) whole by its own lag (stretch_lags, starting from the
    clip's best_lags): an imitation that runs faster or slower than the sound keeps every event on its own. Frames
    between moved stretches take the target's inactive frames at the nearer stretch's lag, else at the other's,
    else nothing (−1), so no pitched frame is repeated. An item without active frames moves by its clip lag."""
    batch, frames = target_active.shape
    clip_lags = best_lags(query_active, target_active, max_lag)
    sources = clip_sources(clip_lags, frames)
    t = torch.arange(frames, device=target_active.device)
    for b in range(batch):
        runs = stretches(target_active[b], bridge)
        if not runs or not query_active[b].any():
            continue
        lags = torch.tensor(stretch_lags(query_active[b], runs, max_lag, int(clip_lags[b])), device=t.device)
        starts = torch.tensor([start for start, _ in runs], device=t.device) + lags
        stops = torch.tensor([stop for _, stop in runs], device=t.device) + lags
        in_run = torch.zeros(frames, dtype=torch.bool, device=t.device)
        for start, stop in runs:
            in_run[start:stop] = True
        after = torch.searchsorted(starts, t, right=True)          # moved stretches starting at or before t
        before_k, next_k = (after - 1).clamp(min=0), after.clamp(max=len(runs) - 1)
        inside = (after > 0) & (t < stops[before_k])
        to_before = torch.where(after > 0, t - stops[before_k] + 1, frames)
        to_next = torch.where(after < len(runs), starts[next_k] - t, frames)
        near_first = to_before <= to_next
        candidates = [torch.where(near_first, lags[before_k], lags[next_k]),
                      torch.where(near_first, lags[next_k], lags[before_k])]
        source = torch.full_like(t, -1)
        for lag in reversed(candidates):                           # the nearer stretch's lag written last: it wins
            take = t - lag
            usable = (take >= 0) & (take < frames)
            usable &= ~in_run[take.clamp(0, frames - 1)]
            source = torch.where(usable, take, source)
        sources[b] = torch.where(inside, t - lags[before_k], source)
    return sources


def moved(x: torch.Tensor, sources: torch.Tensor, hop: int = 1) -> torch.Tensor:
    """x [B, ..., N] (frames with hop 1, or samples whose frame t is centred at t · hop) and source frames [B, T] →
    x moved: each step of output frame t taken from the same place in source frame sources[b, t], zeros where that
    is −1 or falls outside x."""
    steps = x.shape[-1]
    position = torch.arange(steps, device=x.device)
    frame = torch.div(position + hop // 2, hop, rounding_mode="floor").clamp(max=sources.shape[-1] - 1)
    source_frame = sources[:, frame]                                                             # [B, N]
    source = position + (source_frame - frame) * hop
    inside = (source_frame >= 0) & (source >= 0) & (source < steps)
    shape = (sources.shape[0], *[1] * (x.dim() - 2), steps)
    source = source.clamp(0, steps - 1).view(shape).expand_as(x)
    return x.gather(-1, source) * inside.view(shape)
