"""``safetyrules ir``: the checked IR, the lowered program, and the validator, from the command line."""

from safetyrules.cli import main


def test_prints_the_checked_ir_with_types(capsys):
    assert main(["ir", "--rules", "demo"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("pack demo ")
    assert "capacity_ratio:number[1] = (annual_output_t:number[t] / approved_capacity_t:number[t])" in out


def test_prints_one_industrys_lowered_program(capsys):
    assert main(["ir", "demo", "--lowered", "--date", "2026-08-01"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("program demo on 2026-08-01: 2 modules, 3 rules")
    assert "B_CMP_NUM" in out


def test_lowered_needs_one_industry(capsys):
    assert main(["ir", "mining", "--lowered"]) == 2
    assert "choose one with --industry (coal_mine, metal_nonmetal_mine)" in capsys.readouterr().err
    assert main(["ir", "mining", "--industry", "coal"]) == 2
    assert "no loaded module covers industry 'coal'" in capsys.readouterr().err


def test_check_validates_every_shipped_rule(capsys):
    assert main(["ir", "--check", "--rules", "all"]) == 0
    assert capsys.readouterr().err.startswith("0 problem(s) in ")
