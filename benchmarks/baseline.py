"""Baseline: one plain generated Python function per pack, to compare the full evaluation path with.

    python benchmarks/baseline.py                    # synthetic 20 and 150 rules, and every shipped pack
    python benchmarks/baseline.py --records 20000 --packs mining demo
    python benchmarks/baseline.py --show demo        # print the generated function

What a hand-written checker would be: ``matched(record) -> [rule ids]``, emitted from the checked IR
(the typed condition trees) as one function for the whole pack, with the modules chosen by industry,
region and the inspection date as ISO text, two-valued float comparisons (a fact that is missing reads
as None and makes the comparison that reads it false), ``any``/``all``/``count`` over lists as
generator expressions, and none of the engine's work: no validation of the record, no exact decision
of ties, no undetermined rules, no report. It is benchmark code generating code from the project's own
compiled rules, never rule text from elsewhere; ``compile()`` turns it into one code object.

The comparison is ``RuleSet.evaluate(record).matched_rule_ids`` against ``matched(record)`` on the same
records in the same run; the ratio is the full path's records/s over the baseline's. Where the two
disagree on a record the cause is the baseline's two-valued reading of missing facts or its float ties:
the agreement on the first records is printed as a check that both judge the same rules.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import sys
import tempfile
import time
from typing import Dict, List, Tuple

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from safetyrules.expr import ast  # noqa: E402
from safetyrules.expr.types import BOOLEAN  # noqa: E402

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Unsupported(Exception):
    """A construct the baseline does not emit (the rule is left out and counted)."""


def _ident(name: str) -> str:
    if not _IDENTIFIER.match(name):  # fact and variable names are identifiers by the module schema
        raise Unsupported(f"name {name!r}")
    return name


class _Emitter:
    def __init__(self, ir):
        self.ir = ir
        self.facts: Dict[str, None] = {}  # fact names read by the current module block, in order

    # values: may be None where a fact is missing
    def value(self, node, items: Dict[str, str]) -> str:
        if isinstance(node, ast.Number):
            return repr(float(node.value))
        if isinstance(node, ast.String):
            return repr(node.value)
        if isinstance(node, ast.Boolean):
            return repr(node.value)
        if isinstance(node, ast.DateLiteral):
            return repr(node.value.isoformat())
        if isinstance(node, ast.InspectionDate):
            return "day"
        if isinstance(node, ast.Name):
            if node.name in self.ir.derived:
                return f"({self.value(self.ir.derived[node.name].expr, items)})"
            self.facts[node.name] = None
            return f"f_{_ident(node.name)}"
        if isinstance(node, ast.ItemField):
            return f"i_{_ident(node.var)}.get({node.field_name!r})"
        if isinstance(node, ast.Negate):
            return f"(-{self.value(node.operand, items)})"
        if isinstance(node, ast.Arith):
            return f"({self.value(node.left, items)} {node.op} {self.value(node.right, items)})"
        if isinstance(node, ast.Call):
            if node.func == "known":
                return f"({self.value(node.args[0], items)} is not None)"
            if node.func in ("min", "max", "abs"):
                return f"{node.func}({', '.join(self.value(a, items) for a in node.args)})"
            if node.func == "if":
                c, a, b = node.args
                return f"({self.value(a, items)} if {self.cond(c, items)} else {self.value(b, items)})"
            if node.func == "days_between":
                return f"_days({self.value(node.args[0], items)}, {self.value(node.args[1], items)})"
            raise Unsupported(node.func)
        if isinstance(node, ast.Quantifier):
            lst = f"(f_{_ident(node.list_name)} or ())"
            self.facts[node.list_name] = None
            if node.condition is None:
                return f"len({lst})"
            var = f"i_{_ident(node.var)}"
            cond = self.cond(node.condition, dict(items, **{node.var: node.list_name}))
            if node.kind == "count":
                return f"sum(1 for {var} in {lst} if {cond})"
            return f"{node.kind}({cond} for {var} in {lst})"
        if isinstance(node, (ast.Compare, ast.And, ast.Or, ast.Not, ast.Member)):
            return self.cond(node, items)
        raise Unsupported(type(node).__name__)

    def leaves(self, node, out: List[str], items: Dict[str, str]) -> None:
        """The values a comparison needs recorded (its None guards)."""
        if isinstance(node, ast.Name):
            if node.name in self.ir.derived:
                self.leaves(self.ir.derived[node.name].expr, out, items)
            else:
                out.append(self.value(node, items))
        elif isinstance(node, ast.ItemField):
            out.append(self.value(node, items))
        elif not isinstance(node, (ast.Quantifier, ast.Call)) or (isinstance(node, ast.Call) and node.func != "known"):
            for child in ast.children(node):
                self.leaves(child, out, items)

    # conditions: always True or False
    def cond(self, node, items: Dict[str, str]) -> str:
        if isinstance(node, ast.And):
            return "(" + " and ".join(self.cond(o, items) for o in node.operands) + ")"
        if isinstance(node, ast.Or):
            return "(" + " or ".join(self.cond(o, items) for o in node.operands) + ")"
        if isinstance(node, ast.Not):
            if isinstance(node.operand, (ast.Name, ast.ItemField)):
                return f"({self.value(node.operand, items)} is False)"
            return f"(not {self.cond(node.operand, items)})"
        if isinstance(node, (ast.Name, ast.ItemField)):
            return f"({self.value(node, items)} is True)"
        if isinstance(node, ast.Boolean):
            return repr(node.value)
        if isinstance(node, ast.Compare):
            guards: List[str] = []
            self.leaves(node, guards, items)
            test = f"{self.value(node.left, items)} {node.op} {self.value(node.right, items)}"
            return "(" + " and ".join([f"{g} is not None" for g in dict.fromkeys(guards)] + [test]) + ")"
        if isinstance(node, ast.Member):
            operand = self.value(node.operand, items)
            options = "(" + "".join(self.value(o, items) + ", " for o in node.options) + ")"
            if node.negated:
                return f"({operand} is not None and {operand} not in {options})"
            return f"({operand} in {options})"
        if isinstance(node, ast.Quantifier) and node.kind in ("any", "all"):
            return self.value(node, items)
        if isinstance(node, ast.Call) and (node.func == "known" or node.ty is not None and node.ty.kind == BOOLEAN):
            return f"({self.value(node, items)} is True)" if node.func != "known" else self.value(node, items)
        raise Unsupported(type(node).__name__)


def generate(ir) -> Tuple[str, int, int]:
    """Source of ``matched(rec)`` for a compiled rule set; (source, rules emitted, rules left out)."""
    em = _Emitter(ir)
    body: List[str] = []
    emitted = skipped = 0
    for cm in ir.modules:
        m = cm.module
        if not cm.rules:
            continue
        em.facts = {}
        guard = [f"ind in {tuple(m.industries)!r}", f"{m.effective_from.isoformat()!r} <= day"]
        if m.effective_until is not None:
            guard.append(f"day <= {m.effective_until.isoformat()!r}")
        if m.jurisdiction.level != "national":
            guard.append(f"region == {m.jurisdiction.code!r}")
        rules: List[str] = []
        for compiled in cm.rules:
            rule = compiled.rule
            try:
                items: Dict[str, str] = {}
                if rule.for_each is not None:
                    items[rule.for_each.var] = rule.for_each.list_name
                cond = em.cond(rule.when, items)
                if rule.applies_if is not None:
                    cond = f"{em.cond(rule.applies_if, {})} and {cond}"
                if rule.for_each is not None:
                    em.facts[rule.for_each.list_name] = None
                    cond = f"any({cond} for i_{_ident(rule.for_each.var)} in (f_{_ident(rule.for_each.list_name)} or ()))"
            except Unsupported:
                skipped += 1
                continue
            emitted += 1
            rules += [
                "            try:",
                f"                if {cond}:",
                f"                    out.append({rule.id!r})",
                "            except (TypeError, ZeroDivisionError):",
                "                pass",
            ]
        scope = "True"
        if m.scope is not None:
            try:
                scope = em.cond(m.scope, {})
            except Unsupported:
                skipped += len(cm.rules)
                continue
        loads = [f"        f_{_ident(name)} = V.get({name!r})" for name in em.facts]
        body += [f"    if {' and '.join(guard)}:"] + loads + [f"        if {scope}:"] + (rules or ["            pass"])
    source = "\n".join(
        [
            "def matched(rec):",
            "    site = rec['site']",
            "    V = rec['facts']",
            "    A = site.get('attributes')",
            "    if A:",
            "        V = {**V, **A}",
            "    ind = site['industry']",
            "    day = rec['inspection_date']",
            "    region = site.get('region')",
            "    out = []",
        ]
        + body
        + ["    return out", ""]
    )
    return source, emitted, skipped


def _days(a, b):
    from datetime import date

    return (date.fromisoformat(b) - date.fromisoformat(a)).days


def compile_baseline(ir):
    """The generated function and (rules emitted, rules left out)."""
    source, emitted, skipped = generate(ir)
    namespace: Dict[str, object] = {"_days": _days}
    exec(compile(source, "<baseline>", "exec"), namespace)  # noqa: S102 - source emitted from the checked IR above
    return namespace["matched"], emitted, skipped


def _rate(run, recs, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        run(recs)
        best = min(best, time.perf_counter() - start)
    return len(recs) / best


def compare(rules, recs) -> dict:
    """Baseline and full path on the same records: records/s of each, their ratio, their agreement."""
    fn, emitted, skipped = compile_baseline(rules.ir)
    evaluate = rules.evaluate

    def full(rs):
        for r in rs:
            evaluate(r).matched_rule_ids  # noqa: B018 - reading them is what is measured

    def plain(rs):
        for r in rs:
            fn(r)

    full_rate, plain_rate = _rate(full, recs), _rate(plain, recs)
    sample = recs[:500]
    same = sum(sorted(fn(r)) == sorted(evaluate(r).matched_rule_ids) for r in sample)
    return {
        "baseline_rules": emitted,
        "baseline_rules_left_out": skipped,
        "full_matched_ids_per_s": round(full_rate),
        "baseline_per_s": round(plain_rate),
        "full_over_baseline": round(full_rate / plain_rate, 2),
        "same_matched_ids_pct": round(100 * same / len(sample), 1),
    }


def bench_synthetic_baseline(n_rules: int, n_records: int) -> dict:
    from benchmarks.synthetic import records, write_pack
    from safetyrules import load_rules

    with tempfile.TemporaryDirectory() as tmp:
        rules = load_rules(write_pack(tmp, n_rules=n_rules))
    out: dict = {"pack": f"synthetic-{n_rules} rules/60 facts, baseline"}
    for missing in (0.0, 0.05):
        for key, value in compare(rules, records(n_records, missing=missing)).items():
            out[f"{key}_missing_{int(missing * 100)}pct"] = value
    return out


def main() -> None:
    from benchmarks.realistic import records_for
    from safetyrules import load_rules
    from safetyrules.packs import shipped_pack_names

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20000, help="synthetic records per measurement")
    parser.add_argument("--realistic-records", type=int, default=5000, help="realistic records per shipped pack")
    parser.add_argument("--packs", nargs="*", default=None, help="shipped packs (default: all)")
    parser.add_argument("--show", metavar="PACK", help="print the generated function of a pack and stop")
    args = parser.parse_args()
    if args.show:
        print(generate(load_rules(args.show).ir)[0])
        return
    print(f"python {sys.version.split()[0]}, 1 process")
    for n in (20, 150):
        print(bench_synthetic_baseline(n, args.records))
    for pack in args.packs or shipped_pack_names():
        rules = load_rules(pack)
        row: Dict[str, object] = {"pack": f"{pack} (realistic)"}
        row.update(compare(rules, records_for(rules, args.realistic_records)))
        print(row)


if __name__ == "__main__":
    main()
