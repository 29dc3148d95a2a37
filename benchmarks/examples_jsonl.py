"""Many records from the shipped examples, as JSON Lines, for timing ``safetyrules check`` end to end.

    python benchmarks/examples_jsonl.py --records 100000 --out records.jsonl
    time python -m safetyrules check --format jsonl records.jsonl > reports.jsonl

Each output record is a shipped example (``examples/*.json``, round robin) with its own record_id and,
unless ``--no-vary``, its numbers moved by up to ±``--spread`` (seeded): whole numbers stay whole, and
every number stays within its fact's declared bounds, so that every record is valid and the reports
differ from one copy to the next (more or fewer hazards, other evidence values) instead of repeating
six reports. The rules are loaded only to read those declarations.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from typing import Any, Dict, List, Mapping, Optional

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from safetyrules import load_rules  # noqa: E402
from safetyrules.packs import shipped_pack_names  # noqa: E402
from safetyrules.expr.types import LIST, NUMBER  # noqa: E402

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def examples() -> List[dict]:
    """The shipped example records, one a file (the JSON Lines example is an audit's input)."""
    out = []
    for name in sorted(os.listdir(EXAMPLES)):
        if name.endswith(".json"):
            with open(os.path.join(EXAMPLES, name), encoding="utf-8") as fh:
                out.append(json.load(fh))
    return out


def _vary_number(value: Any, spec: Any, rnd: random.Random, spread: float) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    moved = value * (1 + rnd.uniform(-spread, spread))
    moved = round(moved) if isinstance(value, int) or spec.type.integer else round(moved, 3)
    if spec.minimum is not None and moved < spec.minimum:
        moved = value
    if spec.maximum is not None and moved > spec.maximum:
        moved = value
    return moved


def _vary_values(values: Mapping[str, Any], vocabulary: Mapping[str, Any], rnd: random.Random, spread: float) -> Dict[str, Any]:
    out = {}
    for name, value in values.items():
        spec = vocabulary.get(name)
        if spec is None or value is None:
            out[name] = value
        elif spec.type.kind == NUMBER:
            out[name] = _vary_number(value, spec, rnd, spread)
        elif spec.type.kind == LIST and isinstance(value, list):
            fields = {f.name: f for f in spec.fields}
            out[name] = [
                {
                    k: v if k == spec.key or k not in fields else _vary_values({k: v}, fields, rnd, spread)[k]
                    for k, v in item.items()
                }
                for item in value
            ]
        else:
            out[name] = value
    return out


def generate(n: int, vary: bool = True, spread: float = 0.2, seed: int = 16, vocabularies: Optional[Mapping[str, Any]] = None):
    """Yields ``n`` records made from the shipped examples."""
    rnd = random.Random(seed)
    base = examples()
    for i in range(n):
        record = json.loads(json.dumps(base[i % len(base)]))
        record["record_id"] = f"{record['record_id']}-{i:07d}"
        if vary and vocabularies is not None:
            vocabulary = vocabularies.get(record["site"]["industry"], {})
            record["facts"] = _vary_values(record.get("facts") or {}, vocabulary, rnd, spread)
            site = record["site"]
            if site.get("attributes"):
                site["attributes"] = _vary_values(site["attributes"], vocabulary, rnd, spread)
        yield record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--out", required=True)
    parser.add_argument("--no-vary", dest="vary", action="store_false", help="copies that differ by record_id only")
    parser.add_argument("--spread", type=float, default=0.2, help="numbers move by up to this fraction (default 0.2)")
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    vocabularies = load_rules(shipped_pack_names()).ir.vocabularies if args.vary else None
    with open(args.out, "w", encoding="utf-8") as fh:
        for record in generate(args.records, args.vary, args.spread, args.seed, vocabularies):
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
