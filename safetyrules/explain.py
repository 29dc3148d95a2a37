"""``safetyrules explain``: the trace of one rule on one record.

Every sub-condition is shown with the values it read and its truth value (true, false or unknown),
the derived values it used, and the reason the rule ended matched, not matched, undetermined or not
applicable. The trace is computed by the reference interpreter, so it explains what every backend
decides.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Dict, Hashable, Mapping, Optional

from .errors import SafetyRulesError, did_you_mean
from .evaluation import select_modules
from .expr import ast
from .interpreter import _METHODS, UNKNOWN, Interpreter, ItemBinding, RuleVerdict, Value, _display
from .model import Rule, RuleException
from .ruleset import RuleSet


def _tri(value: Any) -> Any:
    if value is UNKNOWN:
        return "unknown"
    return _display(value)


class _TraceInterpreter(Interpreter):
    """The reference interpreter for traces: a trace evaluates every sub-condition of a rule the
    rule's own evaluation has evaluated already, so each node's value is kept for each binding of
    its items (values are immutable), and evaluated once. Not while an exception reads presumptions:
    there evaluation records the presumptions it reads."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._memo: Dict[Hashable, Value] = {}

    def eval(self, node: ast.Node, items: Mapping[str, ItemBinding]) -> Value:
        if self._presuming is not None:
            computed: Value = _METHODS[type(node)](self, node, items)
            return computed
        key: Hashable = (
            (id(node), tuple((var, b.list_name, b.key, id(b.values)) for var, b in items.items())) if items else id(node)
        )
        value = self._memo.get(key)
        if value is None:
            value = self._memo[key] = _METHODS[type(node)](self, node, items)
        return value


def _trace(interp: Interpreter, node: ast.Node, items: Mapping[str, ItemBinding]) -> Dict[str, Any]:
    result = interp.eval(node, items)
    out: Dict[str, Any] = {"expr": ast.source_of(node), "value": _tri(result.value)}
    if result.reads:
        out["reads"] = {k: _display(v) if not isinstance(v, (str, bool, int, float)) or v is None else v for k, v in result.reads}
    if result.value is UNKNOWN and result.needs:
        out["needs"] = sorted(result.needs)
    if isinstance(node, (ast.And, ast.Or)):
        out["children"] = [_trace(interp, o, items) for o in node.operands]
    elif isinstance(node, ast.Not):
        out["children"] = [_trace(interp, node.operand, items)]
    elif isinstance(node, ast.Call) and node.func == "if":
        out["children"] = [_trace(interp, a, items) for a in node.args]
    elif isinstance(node, ast.Quantifier) and node.condition is not None and node.var is not None:  # var comes with a condition
        lst = interp.fact(node.list_name)
        if lst.value is not UNKNOWN:
            spec = interp.vocabulary[node.list_name]
            out["items"] = []
            for entry in lst.value:
                binding = ItemBinding(node.list_name, str(entry.get(spec.key)), entry)
                child = _trace(interp, node.condition, {**items, node.var: binding})
                child["item"] = binding.key
                out["items"].append(child)
    return out


def explain(rules: RuleSet, raw_record: Any, rule_id: str, as_of: Optional[date] = None) -> Dict[str, Any]:
    """The trace of one rule on one record (checked here; raises RecordError for a malformed one)."""
    if rule_id not in rules.ir.rules:
        raise SafetyRulesError(f"no rule {rule_id!r} is loaded{did_you_mean(rule_id, rules.ir.rules)}")
    return Explainer(rules, rules.parse_record(raw_record), as_of).explain(rule_id)


class Explainer:
    """Traces of any number of rules on one checked record: the module versions are chosen once and
    one interpreter reads the record for all of them (a fact or a derived value is worked out once).
    Each trace is the one :func:`explain` gives for that rule.

    ``record`` is a checked record: a :class:`~safetyrules.records.Record` from ``rules.parse_record``,
    or the record of a compiled evaluator's report as its explanations read it
    (:func:`safetyrules.evaluation.record_of`)."""

    def __init__(self, rules: RuleSet, record: Any, as_of: Optional[date] = None) -> None:
        self.rules = rules
        self.record = record
        self.selection = select_modules(rules.ir, record, as_of)
        self._modules: Dict[str, Any] = {}
        for cm in self.selection.modules:
            self._modules.setdefault(cm.id, cm)
        self._interp: Optional[_TraceInterpreter] = None

    def explain(self, rule_id: str) -> Dict[str, Any]:
        ir, record, selection = self.rules.ir, self.record, self.selection
        compiled = ir.rules.get(rule_id)
        if compiled is None:
            raise SafetyRulesError(f"no rule {rule_id!r} is loaded{did_you_mean(rule_id, ir.rules)}")
        module = self._modules.get(compiled.rule.module_id)
        rule = compiled.rule
        out: Dict[str, Any] = {
            "record_id": record.record_id,
            "rule_id": rule.id,
            "citation": rule.citation.rendered,
            "title": rule.title.to_json(),
            "as_of": selection.day.isoformat(),
        }
        if module is None:
            m = ir.module_by_id[rule.module_id].module
            out["outcome"] = "not_evaluated"
            out["why"] = (
                f"module {m.id} is not applied to this record: it is in force "
                f"{m.effective_from.isoformat()} – {m.effective_until.isoformat() if m.effective_until else '…'}, "
                f"for industry {', '.join(m.industries)} and jurisdiction {m.jurisdiction.code or 'national'}; the record is "
                f"{record.industry}, {record.region or 'no region'}, judged as of {selection.day.isoformat()}"
            )
            return out
        compiled = module.rule_by_id[rule_id]  # the provincial variant, if any
        rule = compiled.rule
        interp = self._interp
        if interp is None:
            interp = self._interp = _TraceInterpreter(ir, record, selection.day)
        if rule.overlay is not None:
            out["overlay"] = rule.overlay.to_json()
        if module.module.scope is not None:
            out["scope"] = _trace(interp, module.module.scope, {})
        derived = [name for name in compiled.derived]
        if derived:
            out["derived"] = {
                name: {"expr": ir.derived[name].source_text, "value": _tri(interp.derived(name).value)} for name in derived
            }
        verdict = interp.rule(compiled)
        scope_value = interp.scope(module).value
        outcome = verdict.outcome
        if scope_value is False:
            outcome = "not_applicable"
        elif scope_value is UNKNOWN and outcome == "matched":
            outcome = "undetermined"
        out["outcome"] = outcome
        if rule.for_each is None:
            if rule.applies_if is not None:
                out["applies_if"] = _trace(interp, rule.applies_if, {})
            out["when"] = _trace(interp, rule.when, {})
            if rule.unless:
                out["unless"] = [_trace_exception(interp, e, {}) for e in rule.unless]
        else:
            lst = interp.fact(rule.for_each.list_name)
            out["for_each"] = rule.for_each.list_name
            out["items"] = []
            if lst.value is not UNKNOWN:
                spec = interp.vocabulary[rule.for_each.list_name]
                for entry in lst.value:
                    binding = ItemBinding(rule.for_each.list_name, str(entry.get(spec.key)), entry)
                    items = {rule.for_each.var: binding}
                    entry_out: Dict[str, Any] = {"item": binding.key}
                    if rule.applies_if is not None:
                        entry_out["applies_if"] = _trace(interp, rule.applies_if, items)
                    entry_out["when"] = _trace(interp, rule.when, items)
                    if rule.unless:
                        entry_out["unless"] = [_trace_exception(interp, e, items) for e in rule.unless]
                    out["items"].append(entry_out)
        excepted = any(e["holds"] is True for e in out.get("unless", ()))
        out["why"] = _why(outcome, verdict, scope_value, rule, excepted)
        out["presumptions"] = self.rules.presumptions
        return out


def _trace_exception(interp: Interpreter, exception: RuleException, items: Mapping[str, ItemBinding]) -> Dict[str, Any]:
    """One exception's trace, read as the rule reads it: with the presumptions the rule set uses."""
    with interp.presuming(exception) as used:
        trace = _trace(interp, exception.when, items)
    out: Dict[str, Any] = {
        "label": exception.label.to_json(),
        "citation": exception.citation.rendered,
        "holds": trace["value"],
        "trace": trace,
    }
    if exception.text:
        out["text"] = exception.text
    if used:
        out["presumed"] = {name: p.to_json() for name, p in used}
    return out


def _why(outcome: str, verdict: RuleVerdict, scope_value: Any, rule: Rule, excepted: bool = False) -> str:
    if scope_value is False:
        return "the module's scope is false for this site, so none of its items applies"
    if outcome == "not_applicable":
        if rule.overlay is not None and rule.overlay.action == "not_applicable":
            return f"a provincial supplement sets this item aside: {rule.overlay.reason}"
        return "applies_if is false for this site (or the list has no items)"
    if outcome == "matched":
        if verdict.presumed:
            presumed = ", ".join(f"{name}={str(p.value).lower()}" for name, p, _ in verdict.presumed)
            return (
                "the condition is true on the recorded facts and no exception holds (presumed, not recorded: "
                f"{presumed}): this is a major accident hazard"
            )
        return "the condition is true on the recorded facts: this is a major accident hazard"
    if outcome == "not_matched":
        if excepted:
            return "an exception holds, so the criterion does not apply to this case (see unless)"
        return "the condition is false on the recorded facts"
    needs = sorted(verdict.needs)
    if scope_value is UNKNOWN:
        return "the module's scope cannot be decided: record " + ", ".join(needs or ["the scope's facts"])
    return "the recorded facts cannot decide it (undetermined is not compliant); record: " + ", ".join(needs)


_MARK = {True: "✓", False: "✗", "unknown": "?"}


def render_text(trace: Dict[str, Any]) -> str:
    lines = [f"{trace['rule_id']}  {trace['citation']}", f"  {trace['title']['zh']} — {trace['title']['en']}"]
    if "overlay" in trace:
        lines.append(f"  changed by {trace['overlay']['module_id']} ({trace['overlay']['action']}): {trace['overlay']['reason']}")
    lines.append(f"  outcome: {trace['outcome'].upper()} — {trace['why']}")

    def node(n: Dict[str, Any], depth: int) -> None:
        value = n["value"]
        mark = _MARK.get(value, "=") if isinstance(value, (bool, str)) else "="
        shown = "" if isinstance(value, bool) or value == "unknown" else f" = {value}"
        reads = ""
        if "reads" in n and not n.get("children") and not n.get("items"):
            reads = "   [" + ", ".join(f"{k}={'(not recorded)' if v is None else v}" for k, v in n["reads"].items()) + "]"
        item = f"[{n['item']}] " if "item" in n else ""
        lines.append("  " + "    " * depth + f"{mark} {item}{n['expr']}{shown}{reads}")
        for child in n.get("children", []):
            node(child, depth + 1)
        for child in n.get("items", []):
            node(child, depth + 1)

    for section in ("scope", "applies_if", "when"):
        if section in trace:
            lines.append(f"  {section}:")
            node(trace[section], 1)

    def exceptions(entries: Any, depth: int) -> None:
        for e in entries:
            lines.append("  " + "    " * depth + f"unless {e['label']['zh']} ({e['citation']}): holds {e['holds']}")
            node(e["trace"], depth + 1)
            for name, p in e.get("presumed", {}).items():
                lines.append(
                    "  " + "    " * (depth + 1) + f"presumed {name}={str(p['value']).lower()} (not recorded): {p['reason']['zh']}"
                )

    exceptions(trace.get("unless", ()), 0)
    for entry in trace.get("items", []):
        lines.append(f"  item {entry['item']}:")
        for section in ("applies_if", "when"):
            if section in entry:
                node(entry[section], 1)
        exceptions(entry.get("unless", ()), 1)
    if trace.get("presumptions") is False:
        lines.append("  strict: no presumptions")
    if trace.get("derived"):
        lines.append("  derived:")
        for name, d in trace["derived"].items():
            lines.append(f"      {name} = {d['value']}   ({d['expr']})")
    return "\n".join(lines)
