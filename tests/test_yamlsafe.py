"""The nesting pre-check of YAML text: its limits, and the same answer as a plain scan of the text."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safetyrules import yamlsafe
from safetyrules.yamlsafe import MAX_FLOW_DEPTH, MAX_INDENT, YamlError, load_yaml_text


def reference(text, flow_limit, indent_limit):
    """The pre-check as first written: every character and every line looked at."""
    depth = deepest = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    if deepest > flow_limit:
        return f"nested deeper than {yamlsafe.MAX_DEPTH} levels ({deepest} open brackets)"
    widest = max((len(line) - len(line.lstrip(" ")) for line in text.splitlines()), default=0)
    if widest > indent_limit:
        return f"nested deeper than {yamlsafe.MAX_DEPTH} levels (a line indented {widest} spaces)"
    return ""


@pytest.mark.parametrize("depth, refused", [(MAX_FLOW_DEPTH - 1, False), (MAX_FLOW_DEPTH, False), (MAX_FLOW_DEPTH + 1, True)])
def test_flow_depth_limit(depth, refused):
    text = "x: " + "[" * depth + "]" * depth + "\n" + "y: [1, 2]\n" * 300  # more brackets than the limit in all
    reason = yamlsafe._nesting_beyond_limits(text)
    assert bool(reason) is refused
    if refused:
        assert f"({depth} open brackets)" in reason


@pytest.mark.parametrize("indent, refused", [(MAX_INDENT - 1, False), (MAX_INDENT, False), (MAX_INDENT + 1, True)])
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r", "\u2028", "\x0c"])
def test_indent_limit_on_every_line_break(indent, refused, newline):
    text = f"a:{newline}" + " " * indent + "b: 1" + newline
    reason = yamlsafe._nesting_beyond_limits(text)
    assert reason == reference(text, MAX_FLOW_DEPTH, MAX_INDENT)
    assert bool(reason) is refused
    if refused:
        assert f"a line indented {indent} spaces" in reason


def test_spaces_inside_a_line_do_not_count():
    text = "a: '" + " " * (MAX_INDENT + 5) + "'\n"
    assert yamlsafe._nesting_beyond_limits(text) == ""
    assert load_yaml_text(text, "m.yaml")[0] == {"a": " " * (MAX_INDENT + 5)}


def test_refused_before_parsing():
    with pytest.raises(YamlError) as info:
        load_yaml_text("x: " + "{a: " * (MAX_FLOW_DEPTH + 1) + "1" + "}" * (MAX_FLOW_DEPTH + 1) + "\n", "m.yaml")
    assert info.value.diagnostic.code == "E-TOO-DEEP"
    assert "open brackets" in info.value.diagnostic.message


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="[]{} \n\r\u2028x:", max_size=60), st.integers(0, 4), st.integers(0, 6))
def test_same_answer_as_the_plain_scan(text, flow_limit, indent_limit):
    saved = yamlsafe.MAX_FLOW_DEPTH, yamlsafe.MAX_INDENT
    yamlsafe.MAX_FLOW_DEPTH, yamlsafe.MAX_INDENT = flow_limit, indent_limit
    try:
        got = yamlsafe._nesting_beyond_limits(text)
    finally:
        yamlsafe.MAX_FLOW_DEPTH, yamlsafe.MAX_INDENT = saved
    assert got == reference(text, flow_limit, indent_limit)
