"""The printers show what a maintainer needs, deterministically."""

from datetime import date

from safetyrules import load_rules
from safetyrules.ir.printer import print_program, print_ruleset


def test_the_checked_ir_shows_types_citations_and_reads():
    ir = load_rules("demo").ir
    text = print_ruleset(ir)
    assert text == print_ruleset(ir)
    for compiled in ir.rules.values():
        assert f"rule {compiled.id}  {compiled.rule.citation.rendered}" in text
    assert "capacity_ratio:number[1] > 110%" in text
    assert "through capacity_ratio" in text


def test_the_lowered_program_lists_every_node_and_rule():
    ir = load_rules("demo").ir
    text = print_program(ir, "demo", date(2026, 8, 1))
    first = text.splitlines()[0]
    n_nodes = int(first.split(" nodes")[0].rsplit(", ", 1)[1])
    assert n_nodes > 0
    assert f"  {n_nodes - 1:4} " in text and f"  {n_nodes:4} " not in text
    assert "B_CMP_NUM" in text and "N_DIV" in text
    for cm in ir.modules:
        if cm.module.in_force(date(2026, 8, 1)):
            for rid in cm.rule_ids:
                assert f"  {rid}: " in text
