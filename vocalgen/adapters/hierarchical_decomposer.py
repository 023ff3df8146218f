"""CLAP2Diffusion's soft hierarchical decomposition: audio tokens → foreground, background and ambience slots."""

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vocalgen.errors import ConfigError
from vocalgen.interfaces import Outputs
from vocalgen.schedules import WarmupCosineFactor

GROUPS = ("foreground", "background", "ambience")


def group_sizes(num_tokens: int, ratio: Sequence[float]) -> tuple[int, ...]:
    """`num_tokens` split in `ratio` by largest remainder (ties go to the earlier group), e.g. 5 : 3 : 2 of 10
    tokens → (5, 3, 2), of 16 → (8, 5, 3). ConfigError when a group would get no token."""
    if len(ratio) != len(GROUPS) or min(ratio) <= 0:
        raise ConfigError(f"adapter.decomposer.ratio={list(ratio)}: give {len(GROUPS)} positive shares, one per group "
                          f"{list(GROUPS)} (the recipe: [5, 3, 2]).")
    exact = [num_tokens * share / sum(ratio) for share in ratio]
    sizes = [math.floor(value) for value in exact]
    by_remainder = sorted(range(len(sizes)), key=lambda g: (sizes[g] - exact[g], g))
    for g in by_remainder[:num_tokens - sum(sizes)]:
        sizes[g] += 1
    if min(sizes) < 1:
        raise ConfigError(f"adapter.decomposer: {num_tokens} tokens in the ratio {list(ratio)} leave a group empty "
                          f"({dict(zip(GROUPS, sizes))}); use more tokens (adapter.tokens.num_tokens).")
    return tuple(sizes)


class HierarchicalDecomposer(nn.Module):
    """tokens [B, N, D] → the same tokens, re-weighted and re-ordered into foreground, background and ambience slots.

    Soft assignment: each token's group weights are
        w[b, i, g] = softmax_g((similarity_scale · cos(token[b, i], anchor_g) + gate_g) / T)
    over 3 learned anchors [3, D] and 3 learned gates (a per-group bias). T follows a cosine from
    `start_temperature` to `end_temperature` over `anneal_steps` training forwards, then stays at the end value; the
    step is this module's own buffer `step`, advanced by one in every forward in training mode (so once per
    micro-batch), saved in the state dict: a later stage that trains the decomposer on continues the schedule.

    Slots: the N slots are split in `ratio` (group_sizes: 5 : 3 : 2, i.e. 8 + 5 + 3 of 16 tokens). They are filled
    greedily per item: the foreground slots take the tokens with the largest foreground weight, the background slots
    the largest background weights among the rest, the ambience slots the remaining tokens; within a group, by
    decreasing weight. Each slot holds its token multiplied by the token's weight for the slot's group, so a token
    that belongs to its group weakly enters weakly, and the main loss reaches the anchors and gates through these
    weights. The ordering itself is a permutation (no gradient).

    The entropy term is the mean over items and tokens of H(w[b, i, :]) (nats, at most log 3); the loss adds it with a
    positive weight (recipe 0.01), which sharpens the assignments along with the annealing.
    """

    def __init__(self, token_dim: int = 768, num_tokens: int = 16, ratio: Sequence[float] = (5, 3, 2),
                 similarity_scale: float = 10.0, start_temperature: float = 2.0, end_temperature: float = 0.5,
                 anneal_steps: int = 5000) -> None:
        super().__init__()
        if not 0 < end_temperature <= start_temperature:
            raise ConfigError(f"adapter.decomposer: need 0 < end_temperature ({end_temperature}) ≤ start_temperature "
                              f"({start_temperature}).")
        self.token_dim, self.num_tokens = token_dim, num_tokens
        self.sizes = group_sizes(num_tokens, ratio)
        self.similarity_scale = similarity_scale
        self.start_temperature = start_temperature
        self.schedule = WarmupCosineFactor(anneal_steps, 0, end_temperature / start_temperature)
        self.anchors = nn.Parameter(torch.randn(len(GROUPS), token_dim))
        self.gates = nn.Parameter(torch.zeros(len(GROUPS)))
        self.register_buffer("step", torch.zeros((), dtype=torch.long))
        slot_groups = torch.repeat_interleave(torch.arange(len(GROUPS)), torch.tensor(self.sizes))
        self.register_buffer("slot_groups", slot_groups, persistent=False)

    def temperature(self, step: int | None = None) -> float:
        """The assignment temperature at training forward `step` (default: this module's own step counter)."""
        return self.start_temperature * self.schedule(int(self.step) if step is None else step)

    def assignment(self, tokens: Tensor, temperature: float) -> Tensor:
        """tokens [B, N, D] → log group weights [B, N, 3] at `temperature`."""
        cosine = F.normalize(tokens, dim=-1) @ F.normalize(self.anchors, dim=-1).T
        return F.log_softmax((self.similarity_scale * cosine + self.gates) / temperature, dim=-1)

    def slot_order(self, weights: Tensor) -> Tensor:
        """group weights [B, N, 3] → for each slot, the index of the token it holds [B, N] (greedy, see the class)."""
        free = torch.ones(weights.shape[:2], dtype=torch.bool, device=weights.device)
        order = []
        for group, size in enumerate(self.sizes):
            chosen = weights[..., group].detach().masked_fill(~free, -math.inf).topk(size, dim=1).indices
            free = free.scatter(1, chosen, False)
            order.append(chosen)
        return torch.cat(order, dim=1)

    def forward(self, tokens: Tensor) -> Outputs:
        """tokens [B, N, D] → {"tokens": slot tokens [B, N, D] (foreground, background, ambience), "groups": each
        slot's group id [B, N] (0, 1, 2), "assignment": each slot token's group weights [B, N, 3], "entropy": scalar,
        "temperature": scalar}."""
        if tokens.dim() != 3 or tuple(tokens.shape[1:]) != (self.num_tokens, self.token_dim):
            raise ValueError(f"HierarchicalDecomposer expects tokens [B, {self.num_tokens}, {self.token_dim}], got "
                             f"{list(tokens.shape)}; adapter.decomposer.num_tokens and token_dim must match "
                             "adapter.tokens.")
        temperature = self.temperature()
        log_weights = self.assignment(tokens, temperature)
        weights = log_weights.exp()
        entropy = -(weights * log_weights).sum(dim=-1).mean()
        order = self.slot_order(weights)
        slot_weights = weights.gather(1, order.unsqueeze(-1).expand(-1, -1, len(GROUPS)))
        groups = self.slot_groups.expand(len(tokens), -1)
        own_weight = slot_weights.gather(2, groups.unsqueeze(-1))
        slot_tokens = tokens.gather(1, order.unsqueeze(-1).expand(-1, -1, self.token_dim)) * own_weight
        if self.training:
            self.step += 1
        return {"tokens": slot_tokens, "groups": groups, "assignment": slot_weights, "entropy": entropy,
                "temperature": tokens.new_tensor(temperature)}
