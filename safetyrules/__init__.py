"""safetyrules: China's major-accident-hazard criteria (重大事故隐患判定标准) as cited, executable rules.

Load rule packs once, then evaluate inspection records::

    from safetyrules import load_rules
    rules = load_rules("mining")
    report = rules.evaluate(record_dict)
    for d in report.determinations:
        print(d.citation["rendered"], d.title["zh"])
"""

__version__ = "0.1.0"

from .ir import CompiledModule, CompiledRule, RuleSetIR  # noqa: E402
from .errors import Diagnostic, EvaluationError, LoadError, Location, RecordError, SafetyRulesError  # noqa: E402
from .loader import discover_packs  # noqa: E402
from .model import Citation, FactSpec, Industry, Module, Pack, Presumption, Rule, RuleException, Text  # noqa: E402
from .records import Record  # noqa: E402
from .report import (  # noqa: E402
    CitationJson,
    Determination,
    Evidence,
    FindingResult,
    InspectorFinding,
    Notice,
    Outcome,
    PresumptionUsed,
    Report,
    Status,
    UndeterminedRule,
)
from .ruleset import RuleSet, load_rules  # noqa: E402

__all__ = [
    "Citation",
    "CitationJson",
    "CompiledModule",
    "CompiledRule",
    "Determination",
    "Diagnostic",
    "EvaluationError",
    "Evidence",
    "FactSpec",
    "FindingResult",
    "Industry",
    "InspectorFinding",
    "LoadError",
    "Location",
    "Module",
    "Notice",
    "Outcome",
    "Pack",
    "Presumption",
    "PresumptionUsed",
    "Record",
    "RecordError",
    "Report",
    "Rule",
    "RuleException",
    "RuleSet",
    "RuleSetIR",
    "SafetyRulesError",
    "Status",
    "Text",
    "UndeterminedRule",
    "__version__",
    "discover_packs",
    "load_rules",
]
