"""A loss made of named terms with constant or scheduled weights."""

from collections.abc import Callable

import torch
from torch import nn

from vocalgen.errors import ConfigError
from vocalgen.interfaces import Loss, Outputs

Weight = float | Callable[[int], float]


class LinearRamp:
    """step → weight rising linearly from `start` to `end` over `steps`, then held at `end`."""

    def __init__(self, end: float, steps: int, start: float = 0.0) -> None:
        self.start, self.end, self.steps = start, end, max(steps, 1)

    def __call__(self, step: int) -> float:
        return self.start + (self.end - self.start) * min(step / self.steps, 1.0)


class WeightedSum(Loss):
    """outputs → {"loss": Σ weight_i(step) · term_i(outputs), term name: unweighted value, …}."""

    def __init__(self, terms: dict[str, nn.Module], weights: dict[str, Weight]) -> None:
        super().__init__()
        if set(terms) != set(weights):
            raise ConfigError(
                f"loss.terms {sorted(terms)} and loss.weights {sorted(weights)} must name the same terms."
            )
        self.terms = nn.ModuleDict(terms)
        self.weights = dict(weights)

    def weight(self, name: str, step: int) -> float:
        weight = self.weights[name]
        return weight(step) if callable(weight) else float(weight)

    def forward(self, outputs: Outputs, step: int) -> Outputs:
        values = {name: term(outputs) for name, term in self.terms.items()}
        values["loss"] = torch.stack([self.weight(name, step) * value for name, value in values.items()]).sum()
        return values
