"""A seeded synthetic pack (N rules over M facts) and records for it, for benchmarks.

The rules are shaped like the real criteria: thresholds on measurements (some against a second
measurement times a percentage, which needs the exact tie check), enum membership, inspector
observations, conjunctions and disjunctions, and a few derived ratios.
"""

from __future__ import annotations

import json
import os
import random
from typing import List

UNITS = ["t", "%", "m", "MPa"]


def fact_names(n_facts: int):
    n_num = n_facts * 2 // 3
    n_enum = (n_facts - n_num) // 2
    n_bool = n_facts - n_num - n_enum
    nums = [(f"n{i}", UNITS[i % len(UNITS)]) for i in range(n_num)]
    enums = [f"e{i}" for i in range(n_enum)]
    bools = [f"b{i}" for i in range(n_bool)]
    return nums, enums, bools


def pack_text(n_rules: int = 150, n_facts: int = 60, seed: int = 7) -> str:
    rnd = random.Random(seed)
    nums, enums, bools = fact_names(n_facts)
    lines = [
        "schema_version: 1",
        "module:",
        f"  id: synthetic-{n_rules}",
        "  series: synthetic",
        "  title: {zh: 合成基准规则, en: synthetic benchmark rules}",
        "  document: {title: 合成基准, number: 基准第1号, issuer: {zh: 基准, en: benchmark}}",
        "  effective_from: 2020-01-01",
        "  jurisdiction: national",
        "  industry: demo",
        "facts:",
    ]
    for name, unit in nums:
        lines.append(f"  {name}: {{type: number, unit: '{unit}', label: {{zh: {name}, en: {name}}}}}")
    for name in enums:
        lines.append(
            f"  {name}: {{type: enum, values: {{a: {{zh: 甲, en: a}}, b: {{zh: 乙, en: b}}, c: {{zh: 丙, en: c}}}}, label: {{zh: {name}, en: {name}}}}}"
        )
    for name in bools:
        lines.append(f"  {name}: {{type: boolean, label: {{zh: {name}, en: {name}}}}}")
    lines.append("derived:")
    same_unit = {}
    for name, unit in nums:
        same_unit.setdefault(unit, []).append(name)
    derived = []
    for i in range(6):
        unit = UNITS[i % len(UNITS)]
        a, b = rnd.sample(same_unit[unit], 2)
        derived.append(f"r{i}")
        lines.append(f"  r{i}: {{expr: '{a} / {b}', label: {{zh: r{i}, en: r{i}}}}}")
    lines.append("rules:")
    for i in range(n_rules):
        kind = i % 6
        (x, ux) = rnd.choice(nums)
        y = rnd.choice([n for n in same_unit[ux] if n != x])
        c = rnd.randint(1, 99)
        e, bl = rnd.choice(enums), rnd.choice(bools)
        # Thresholds are set so that a record matches a few rules, as real inspections do.
        if kind == 0:
            cond = f"{x} > {y} * 110% and {x} > 140"
        elif kind == 1:
            cond = f"{x} >= {140 + c % 10} and {e} in ['a', 'b']"
        elif kind == 2:
            cond = f"({bl} and {x} >= {145 + c % 5}) or {y} < 1"
        elif kind == 3:
            cond = f"not {bl} and {e} == 'c' and {x} > {140 + c % 10}"
        elif kind == 4:
            cond = f"{rnd.choice(derived)} > 3000%"
        else:
            cond = f"{x} - {y} > {100 + c % 40} and {bl}"
        lines.append(
            f"  - {{id: syn.r{i}, citation: {{article: {4 + i // 10}, item: {1 + i % 10}}}, "
            f'title: {{zh: 规则{i}, en: rule {i}}}, severity: major, when: "{cond}"}}'
        )
    return "\n".join(lines) + "\n"


def write_pack(directory: str, n_rules: int = 150, n_facts: int = 60, seed: int = 7) -> str:
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"synthetic-{n_rules}.yaml")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(pack_text(n_rules, n_facts, seed))
    return path


def records(n: int, n_facts: int = 60, seed: int = 11, missing: float = 0.0) -> List[dict]:
    """Seeded records; ``missing`` is the probability that a fact is not recorded."""
    rnd = random.Random(seed)
    nums, enums, bools = fact_names(n_facts)
    out = []
    for i in range(n):
        facts = {}
        for name, _ in nums:
            if rnd.random() >= missing:
                # one value in ten is 100 or 110, so that "x > y * 110%" meets exact ties now and then
                pick = rnd.random()
                if pick < 0.05:
                    facts[name] = 100
                elif pick < 0.1:
                    facts[name] = 110
                elif pick < 0.55:
                    facts[name] = rnd.randint(1, 150)
                else:
                    facts[name] = round(rnd.uniform(1, 150), 2)
        for name in enums:
            if rnd.random() >= missing:
                facts[name] = rnd.choice("abc")
        for name in bools:
            if rnd.random() >= missing:
                facts[name] = rnd.random() < 0.5
        out.append({"record_id": f"S-{i}", "inspection_date": "2026-08-01", "site": {"industry": "demo"}, "facts": facts})
    return out


if __name__ == "__main__":  # pragma: no cover
    print(pack_text())
    print(json.dumps(records(1)[0]))
