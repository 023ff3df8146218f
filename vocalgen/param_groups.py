"""Parameter-group rules from config: frozen sub-modules and per-module learning rates."""

from collections.abc import Sequence
from dataclasses import dataclass

from torch import nn

from vocalgen.errors import ConfigError


@dataclass(frozen=True)
class ParamGroupRule:
    """Parameters whose names start with one of `modules` are frozen, or trained at `lr`."""

    modules: Sequence[str]
    lr: float | None = None
    frozen: bool = False


def parse_rules(rules: Sequence[dict]) -> list[ParamGroupRule]:
    parsed = []
    for index, rule in enumerate(rules):
        try:
            parsed.append(ParamGroupRule(**rule))
        except TypeError as error:
            raise ConfigError(f"param_groups[{index}]={dict(rule)}: {error}; keys are modules, lr, frozen.") from error
    return parsed


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def build_param_groups(model: nn.Module, rules: Sequence[ParamGroupRule], exclude: Sequence[str] = ()) -> list[dict]:
    """Optimizer groups: one per rule with an lr, and a default group for the rest; parameters
    under an `exclude` prefix (a part with its own optimizer, e.g. a discriminator) are left out.

    Each parameter follows the first rule that names it; a frozen rule sets requires_grad=False
    and keeps the parameter out of every group. A rule that matches nothing is a ConfigError.
    """
    groups: list[dict] = [{"params": [], "name": "default"}]
    rule_groups = {}
    used = set()
    for name, parameter in model.named_parameters():
        if any(_matches(name, prefix) for prefix in exclude):
            continue
        index, rule = next(
            ((i, r) for i, r in enumerate(rules) if any(_matches(name, m) for m in r.modules)), (None, None)
        )
        if rule is None:
            groups[0]["params"].append(parameter)
            continue
        used.add(index)
        if rule.frozen:
            parameter.requires_grad_(False)
            continue
        if index not in rule_groups:
            rule_groups[index] = {"params": [], "name": ",".join(rule.modules), "lr": rule.lr}
            groups.append(rule_groups[index])
        rule_groups[index]["params"].append(parameter)
    for index, rule in enumerate(rules):
        if index not in used:
            raise ConfigError(f"param_groups[{index}].modules={list(rule.modules)} matches no parameter of the model.")
    return [group for group in groups if group["params"]]


def frozen_module_names(rules: Sequence[ParamGroupRule]) -> list[str]:
    return [name for rule in rules if rule.frozen for name in rule.modules]
