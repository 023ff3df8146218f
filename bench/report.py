"""The bench's one table: a row per measurement of a system, a column per variant (bench/variants.py)."""

from dataclasses import dataclass

Figure = float | str | tuple[float, float]  # a number, a text, or a before → after pair


@dataclass
class Row:
    """One measurement of `system`; `values` maps a variant to its figure. A figure that does not depend on the
    variant (a cache speed-up, the Trainer overhead) sits under the variant it was measured in."""

    system: str
    measure: str
    values: dict[str, Figure]


def comma_list(text: str, choices: list[str], option: str) -> list[str]:
    """"a,b" → ["a", "b"], each one of `choices`; SystemExit naming `option` and the choices otherwise."""
    names = [name for name in text.split(",") if name]
    if not names or any(name not in choices for name in names):
        raise SystemExit(f"{option} {text!r}: choose from {choices} (comma-separated).")
    return names


def cell(value: Figure | None) -> str:
    """A figure as printed: 3 significant digits for numbers, "a → b" for a pair, text as it is, "–" where not
    measured."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if isinstance(value, tuple):
        return " → ".join(cell(part) for part in value)
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"


def format_table(heading: str, rows: list[Row], variants: list[str]) -> str:
    """`heading`, then the rows aligned in columns: system, measure, one column per variant."""
    header = ["system", "measure", *variants]
    lines = [header, *([row.system, row.measure, *(cell(row.values.get(v)) for v in variants)] for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = [f"\nvocalgen bench: {heading}"]
    for number, line in enumerate(lines):
        text.append("  ".join(f"{entry:<{widths[i]}}" if i < 2 else f"{entry:>{widths[i]}}"
                              for i, entry in enumerate(line)).rstrip())
        if number == 0:
            text.append("  ".join("-" * width for width in widths))
    return "\n".join(text)
