"""Reports read from the compiled lane equal the reference interpreter's, whole, on every shipped pack.

The compiled lane's reports are built from its outcome bytes and a snapshot of the record, and their
evidence, facts and missing facts are worked out from that snapshot when read. Here the shipped
examples (every industry, so every shipped pack) are varied -- numbers moved, truth values flipped,
enum codes changed, facts dropped or recorded as null, items dropped -- and each variant's
``to_json()`` on the compiled lane must be the interpreter backend's, field for field.
"""

import copy
import json
import random
import zlib
from datetime import date, timedelta
from pathlib import Path

import pytest

from safetyrules import load_rules
from safetyrules.expr.types import BOOLEAN, DATE, ENUM, LIST, NUMBER
from safetyrules.packs import shipped_pack_names

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
VARIANTS = 12


@pytest.fixture(scope="module")
def two_ways():
    fast = load_rules(shipped_pack_names())
    return fast, fast.with_backend("interpreter")


def shipped_examples():
    return sorted(p for p in EXAMPLES.iterdir() if p.suffix == ".json")


def _varied_value(spec, value, rnd: random.Random):
    kind = spec.type.kind
    if kind == NUMBER and type(value) in (int, float):
        moved = value * rnd.choice((0.5, 0.9, 1, 1, 1.1, 1.5, 2))
        moved = round(moved) if spec.type.integer or type(value) is int else round(moved, 2)
        if (spec.minimum is not None and moved < spec.minimum) or (spec.maximum is not None and moved > spec.maximum):
            moved = value
        if spec.type.integer and rnd.random() < 0.3:
            return float(moved)  # a whole number written 3.0: the report shows 3
        return moved
    if kind == DATE and isinstance(value, str) and "1900" < value < "9000":  # 9999-12-31 stands for "no term"
        return (date.fromisoformat(value) + timedelta(days=rnd.choice((-400, -30, 0, 0, 30, 400)))).isoformat()
    if kind == BOOLEAN and rnd.random() < 0.3:
        return not value
    if kind == ENUM and rnd.random() < 0.3:
        return rnd.choice([code for code, _ in spec.values])
    return value


def _varied(values: dict, vocabulary, rnd: random.Random) -> dict:
    out = {}
    for name, value in values.items():
        spec = vocabulary.get(name)
        roll = rnd.random()
        if spec is None or roll < 0.1:
            continue  # not recorded
        if roll < 0.15:
            out[name] = None  # recorded as null: not recorded either
            continue
        if value is None:
            out[name] = value
        elif spec.type.kind == LIST:
            fields = {f.name: f for f in spec.fields}
            items = [item for item in value if rnd.random() > 0.2]
            out[name] = [
                {
                    k: v if k == spec.key or v is None else _varied_value(fields[k], v, rnd)
                    for k, v in item.items()
                    if k == spec.key or rnd.random() > 0.1
                }
                for item in items
            ]
        else:
            out[name] = _varied_value(spec, value, rnd)
    return out


def variants(example: dict, vocabulary, seed: int):
    rnd = random.Random(seed)
    yield example
    for i in range(VARIANTS):
        record = copy.deepcopy(example)
        record["record_id"] = f"{example['record_id']}-{i}"
        record["facts"] = _varied(record.get("facts") or {}, vocabulary, rnd)
        if record["site"].get("attributes"):
            record["site"]["attributes"] = _varied(record["site"]["attributes"], vocabulary, rnd)
        yield record


def comparable(report) -> str:
    """The report's JSON text (so that 3 and 3.0 differ), less the backend's name."""
    data = report.to_json()
    data["engine"].pop("backend")
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


@pytest.mark.parametrize("path", shipped_examples(), ids=lambda p: p.stem)
def test_reports_read_from_the_compiled_lane_are_the_interpreters(two_ways, path):
    fast, reference = two_ways
    example = json.loads(path.read_text(encoding="utf-8"))
    vocabulary = fast.ir.vocabularies[example["site"]["industry"]]
    taken = 0
    for record in variants(example, vocabulary, seed=zlib.crc32(path.stem.encode())):
        compiled = fast.evaluate_compiled(record)
        if compiled is None:
            continue
        taken += 1
        expected = reference.evaluate(record)
        assert comparable(compiled) == comparable(expected), record["record_id"]
        # and read the other way round: evidence first, then the rest
        again = fast.evaluate_compiled(record)
        assert [(d.rule_id, d.item, d.evidence, d.facts) for d in again.determinations] == [
            (d.rule_id, d.item, d.evidence, d.facts) for d in expected.determinations
        ]
        assert [(u.rule_id, u.items, u.needs) for u in again.undetermined] == [
            (u.rule_id, u.items, u.needs) for u in expected.undetermined
        ]
    # the variants are valid records: the compiled lane must have taken most of them, or this tests nothing
    assert taken >= VARIANTS // 2, f"the compiled lane declined {VARIANTS + 1 - taken} of {VARIANTS + 1} variants"
