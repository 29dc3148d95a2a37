"""``safetyrules diff OLD NEW``: added, removed, tightened and loosened rules (issue 18, point 8)."""

import json

import pytest

from safetyrules.cli import main
from safetyrules.loader import read_module
from safetyrules.revision_diff import diff_modules
from tests.helpers import write_module

NUM = {"type": "number"}
FACTS = {
    "x": NUM,
    "y": NUM,
    "cap": NUM,
    "grade": {"type": "enum", "values": {"a": {"zh": "a", "en": "a"}, "b": {"zh": "b", "en": "b"}, "c": {"zh": "c", "en": "c"}}},
}


def diff(tmp_path, old_rules, new_rules):
    a = write_module(tmp_path, "old.yaml", id="m-2020", series="m", facts=FACTS, rules=old_rules)
    b = write_module(tmp_path, "new.yaml", id="m-2026", series="m", facts=FACTS, rules=new_rules)
    return diff_modules(read_module(a)[0].module, read_module(b)[0].module)


def kind_of(tmp_path, old_when, new_when):
    title = {"zh": "同一条款", "en": "same item"}
    d = diff(
        tmp_path,
        [{"id": "m-2020.a1.i1", "when": old_when, "title": title}],
        [{"id": "m-2026.a1.i1", "when": new_when, "title": title}],
    )
    (change,) = [r for r in d.rules]
    return change.kind


@pytest.mark.parametrize(
    "old, new, kind",
    [
        ("x > 10", "x > 9", "tightened"),  # a lower threshold for 超过
        ("x > 10", "x >= 10", "tightened"),  # the boundary now counts
        ("x >= 10", "x > 10", "loosened"),
        ("x < 3", "x < 5", "tightened"),  # 不足: a higher bound catches more
        ("10 < x", "9 < x", "tightened"),  # literal on the left
        ("x > cap * 110%", "x > cap * 100%", "tightened"),
        ("x > cap * 100%", "x > cap * 110%", "loosened"),
        ("x > 10", "x > 10 or y > 3", "tightened"),  # an extra alternative
        ("x > 10 and y > 3", "x > 10", "tightened"),  # one condition fewer
        ("x > 10", "x > 10 and y > 3", "loosened"),
        ("not (x >= 20)", "not (x >= 25)", "tightened"),  # under not the other way round
        ("grade in ['a']", "grade in ['a', 'b']", "tightened"),
        ("x > 10 and y > 3", "x > 9 and y > 4", "changed"),  # wider and narrower at once
        ("x > 10", "y > 10", "changed"),  # another fact: no direction
        ("x > 10", "x >= 11", "changed"),  # value up, boundary in: not ordered
        ("x > 10", "x > 10", "unchanged"),
    ],
)
def test_direction(tmp_path, old, new, kind):
    assert kind_of(tmp_path, old, new) == kind


def test_pairs_by_id_then_citation_then_title_and_lists_added_and_removed(tmp_path):
    old = [
        {"id": "m-2020.a1.i1", "when": "x > 10", "title": {"zh": "数量超过10", "en": "t"}},
        {"id": "m-2020.a1.i2", "when": "y > 1", "title": {"zh": "已删除的条款", "en": "t"}},
        {
            "id": "m-2020.a9.i4",
            "when": "x > 2",
            "citation": {"article": 9, "item": 4},
            "title": {"zh": "防隔水煤柱尺寸不足", "en": "t"},
        },
    ]
    new = [
        {"id": "m-2026.a1.i1", "when": "x > 8", "title": {"zh": "数量超过8", "en": "t"}},
        {
            "id": "m-2026.a10.i7",
            "when": "x > 2",
            "citation": {"article": 10, "item": 7},
            "title": {"zh": "防隔水煤柱尺寸不足", "en": "t"},
        },
        {
            "id": "m-2026.a9.i4",
            "when": "y > 5",
            "citation": {"article": 9, "item": 4},
            "title": {"zh": "全新的另一条款内容", "en": "t"},
        },
    ]
    d = diff(tmp_path, old, new)
    by_kind = {k: [(r.old, r.new) for r in d.of_kind(k)] for k in ("added", "removed", "tightened", "reworded")}
    assert by_kind["tightened"] == [("m-2020.a1.i1", "m-2026.a1.i1")]
    # a renumbered item is paired by its title, not with the unrelated item now at the old number
    assert by_kind["reworded"] == [("m-2020.a9.i4", "m-2026.a10.i7")]
    assert by_kind["removed"] == [("m-2020.a1.i2", None)]
    assert by_kind["added"] == [(None, "m-2026.a9.i4")]


def test_moving_a_condition_into_applies_if_is_no_change(tmp_path):
    title = {"zh": "同一条款", "en": "same item"}
    d = diff(
        tmp_path,
        [{"id": "m-2020.a1.i1", "when": "x > 10 and y > 3", "title": title}],
        [{"id": "m-2026.a1.i1", "applies_if": "y > 3", "when": "x > 10", "title": title}],
    )
    assert d.rules[0].kind == "unchanged"


def test_command_on_shipped_versions(capsys):
    assert main(["diff", "demo-capacity-2020", "demo-capacity-2026"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "demo-capacity-2020 -> demo-capacity-2026: 1 tightened, 1 unchanged"
    assert "added or 'max_quarter_output_t > approved_capacity_t * 30%'" in out
    assert main(["diff", "coal-mine-2020", "coal-mine-2026", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    loosened = {r["new"]: r for r in data["rules"] if r["change"] == "loosened"}
    # 2020: 超过核定能力10%以上 (>= 110 %); 2026: 超过核定能力的110% (> 110 %)
    assert "annual_output_t >= approved_capacity_t * 110%' became 'annual_output_t > approved_capacity_t * 110%'" in " ".join(
        loosened["coal-mine-2026.a4.i1.s1"]["details"]
    )
    assert data["counts"]["added"] > 0 and data["counts"]["removed"] > 0


def test_unknown_module_exits_2(capsys):
    assert main(["diff", "coal-mine-2019", "coal-mine-2026"]) == 2
    assert "coal-mine-2019" in capsys.readouterr().err
