"""Parameter-group rules from config: frozen sub-modules and per-module learning rates."""

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from torch import nn

from vocalgen.errors import ConfigError


@dataclass(frozen=True)
class ParamGroupRule:
    """Parameters whose names start with one of `modules` are frozen, or trained at `lr`. A module
    name may hold `*` wildcards (fnmatch), e.g. `generator.unet.*.attn2.processor` for every audio
    adapter inside the UNet."""

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
    """Whether the parameter or module `name` is `prefix` or lies under it (`*` in it matches anything)."""
    if "*" in prefix:
        return fnmatchcase(name, prefix) or fnmatchcase(name, prefix + ".*")
    return name == prefix or name.startswith(prefix + ".")


def governing_rule_index(name: str, rules: Sequence[ParamGroupRule]) -> int | None:
    """The index of the first rule that names the parameter or module `name` (the one it follows), or None."""
    return next((i for i, rule in enumerate(rules) if any(_matches(name, module) for module in rule.modules)), None)


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
        index = governing_rule_index(name, rules)
        rule = rules[index] if index is not None else None
        if rule is None:
            groups[0]["params"].append(parameter)
            continue
        used.add(index)
        if rule.frozen:
            parameter.requires_grad_(False)
            continue
        if index not in rule_groups:
            rule_groups[index] = {"params": [], "name": " ".join(rule.modules).replace("*", "any"), "lr": rule.lr}
            groups.append(rule_groups[index])
        rule_groups[index]["params"].append(parameter)
    for index, rule in enumerate(rules):
        if index not in used:
            raise ConfigError(f"param_groups[{index}].modules={list(rule.modules)} matches no parameter of the model.")
    return [group for group in groups if group["params"]]


def frozen_module_names(rules: Sequence[ParamGroupRule]) -> list[str]:
    return [name for rule in rules if rule.frozen for name in rule.modules]


def set_frozen_modes(model: nn.Module, rules: Sequence[ParamGroupRule], mode: bool) -> None:
    """Sub-modules of `model` that a frozen rule governs to eval mode (BatchNorm statistics and dropout
    fixed); a trained part inside a frozen one (an adapter inside a frozen UNet, named by an earlier
    rule) to training `mode`, its dropout active. Modules no rule names keep their mode. One pass over
    the modules, parents before children."""
    inside_frozen = {"": False}
    for name, module in model.named_modules():
        if not name:
            continue
        index = governing_rule_index(name, rules)
        frozen = index is not None and rules[index].frozen
        under_frozen = inside_frozen[name.rpartition(".")[0]]
        inside_frozen[name] = frozen or under_frozen
        if frozen:
            module.training = False
        elif under_frozen and index is not None:
            module.training = mode
