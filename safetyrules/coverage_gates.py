"""Coverage gates of ``safetyrules test``: rule, condition and threshold coverage, each settable.

A pack at 100 % rule coverage can still leave most of its elementary tests unexercised (a rule
``a or b or c`` with matched, not-matched and undetermined cases may never have seen ``b`` true), so
``--min-coverage`` gates all three figures; ``--min-rule-coverage``, ``--min-condition-coverage`` and
``--min-threshold-coverage`` set one of them on its own (and override ``--min-coverage`` for it).
The options themselves are declared by the command (``safetyrules.cli.testing``); this module only judges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, List, Optional

if TYPE_CHECKING:
    from .testing import DetailedCoverage

KINDS = ("rule", "condition", "threshold")


@dataclass(frozen=True)
class Gates:
    rule: Optional[float] = None
    condition: Optional[float] = None
    threshold: Optional[float] = None

    @property
    def needs_detail(self) -> bool:
        return self.condition is not None or self.threshold is not None


def check_gates(pack: str, gates: Gates, rule_percent: float, detail: Optional[DetailedCoverage]) -> List[str]:
    """The failures of one pack, as messages; ``detail`` is the DetailedCoverage (None with --rules-only)."""
    measured = {"rule": rule_percent}
    if detail is not None:
        measured["condition"] = detail.condition_percent()
        measured["threshold"] = detail.threshold_percent()
    failures = []
    for kind in KINDS:
        minimum = getattr(gates, kind)
        if minimum is None:
            continue
        if kind not in measured:
            failures.append(f"{pack}: {kind} coverage is not measured with --rules-only, but a minimum of {minimum:g}% is set")
        elif measured[kind] < minimum:
            failures.append(
                f"{pack}: {kind} coverage {measured[kind]:.1f}% is below the minimum {minimum:g}%"
                + ("" if kind == "rule" else " (--show-uncovered lists what is missing)")
            )
    return failures
