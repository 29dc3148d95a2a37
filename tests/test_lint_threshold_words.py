"""L-THRESHOLD-WORD: a comparison read against the threshold words of the rule's own zh title,
whether or not ``thresholds:`` is given (issue 18, point 3)."""

import pytest

from safetyrules.compiler import load_ir
from safetyrules.lint import lint_ir, threshold_phrases
from safetyrules.model import default_threshold_reading
from tests.helpers import write_module

NUM = {"type": "number"}


def word_findings(tmp_path, title, when, extra=""):
    path = write_module(
        tmp_path,
        facts={"workers": NUM, "width_m": NUM, "output_t": NUM, "capacity_t": NUM},
        rules=[{"id": "t-mod.r1", "title": {"zh": title, "en": "t"}, "when": when}],
        extra=extra,
    )
    return [f for f in lint_ir(load_ir([path])) if f.code == "L-THRESHOLD-WORD"]


@pytest.mark.parametrize(
    "title, when",
    [
        ("井下作业人员超过9人", "workers >= 9"),  # 超过 is exclusive by default
        ("作业人员9人以上", "workers > 9"),  # 以上 is inclusive
        ("作业人员9人以上", "workers <= 9"),  # wrong direction
        ("煤柱宽度不足20 m", "width_m <= 20"),  # 不足 is exclusive
        ("煤柱宽度小于20 m", "not (width_m <= 20)"),  # the not turns the comparison round
        ("产量超过核定能力的110%", "output_t >= capacity_t * 110%"),
        ("未配备不少于2名专职人员", "workers <= 2"),
        ("作业人员超过十人", "workers >= 10"),  # Chinese numerals
    ],
)
def test_wrong_reading_is_an_error(tmp_path, title, when):
    found = word_findings(tmp_path, title, when)
    assert found and found[0].severity == "error"
    assert "t-mod.r1" in found[0].message and found[0].location.line > 0


@pytest.mark.parametrize(
    "title, when",
    [
        ("井下作业人员超过9人", "workers > 9"),
        ("作业人员9人以上", "workers >= 9"),
        ("煤柱宽度不足20 m", "width_m < 20"),
        ("煤柱宽度不足20 m", "not (width_m >= 20)"),
        ("产量超过核定能力的110%", "output_t > capacity_t * 110%"),
        ("未配备不少于2名专职人员", "workers < 2"),
        ("作业人员超过9人", "workers * 60 > 540"),  # a converted value is not judged
        ("三等及以上尾矿库", "output_t <= 3"),  # a rank: 三等及以上 is grade 1 to 3
        ("相对密度大于等于0.75", "width_m >= 0.75"),  # explicit comparison
        ("作业人员超过9人", "9 < workers"),  # literal on the left
    ],
)
def test_right_reading_is_clean(tmp_path, title, when):
    assert word_findings(tmp_path, title, when) == []


def test_module_reading_overrides_the_default(tmp_path):
    # a document that defines 超过 as inclusive (as the 2026 power criteria do, art. 35)
    extra = "  threshold_reading: {超过: inclusive, 以下: exclusive}\n"
    assert word_findings(tmp_path, "作业人员超过9人", "workers >= 9", extra) == []
    assert word_findings(tmp_path, "作业人员超过9人", "workers > 9", extra)
    assert word_findings(tmp_path, "宽度20 m以下", "width_m <= 20", extra)


def test_finding_does_not_need_thresholds_key(tmp_path):
    # the case: a rule titled 超过9人 written >= 9 with no thresholds: must not lint clean
    found = word_findings(tmp_path, "超过9人", "workers >= 9")
    assert "超过9" in found[0].message and "'>='" in found[0].message


def test_phrases():
    reading = default_threshold_reading()
    got = [
        (p.word, p.number, p.op) for p in threshold_phrases("钻孔少于3个，井口高于洪水位1米以上，产量超过核定能力的110%", reading)
    ]
    assert got == [("少于", 3, "<"), ("以上", 1, ">="), ("超过", 110, ">")]
