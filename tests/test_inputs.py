"""Reading record files: every problem is a message naming the file and the place, never a traceback."""

import io
import json
import sys

import pytest

from safetyrules.inputs import InputError, JsonProblem, decode_json, read_records


def test_duplicate_keys_are_refused_with_their_json_path():
    """An inspection record with two values for one fact is ambiguous: 'the last one wins' is no answer."""
    with pytest.raises(JsonProblem) as info:
        decode_json('{"record_id": "a", "facts": {"x": 1, "y": 2, "x": 3}, "record_id": "b"}')
    message = str(info.value)
    assert "$.facts.x: the key 'x' appears more than once" in message
    assert "$.record_id: the key 'record_id' appears more than once" in message
    assert decode_json('{"a": {"x": 1}, "b": {"x": 2}}') == {"a": {"x": 1}, "b": {"x": 2}}  # same key, two objects


def test_an_integer_beyond_python_s_digit_limit_is_a_message():
    with pytest.raises(JsonProblem, match="too long to be a measured value"):
        decode_json('{"facts": {"x": 1' + "0" * 5000 + "}}")


def test_nesting_and_malformed_json_are_located(tmp_path):
    with pytest.raises(JsonProblem, match="nested too deeply"):
        decode_json("[" * 100_000 + "]" * 100_000)
    path = tmp_path / "bad.json"
    path.write_text('{"record_id": "a",\n "facts": {,}}', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.json:2:\d+: malformed JSON"):
        list(read_records(str(path)))


def test_a_bad_json_line_is_one_error_the_others_are_read(tmp_path):
    path = tmp_path / "batch.jsonl"
    path.write_text('{"a": 1}\n{"a": 1, "a": 2}\n{"b": 2}\n', encoding="utf-8")
    got = list(read_records(str(path)))
    assert [r.value for r in got] == [{"a": 1}, None, {"b": 2}]
    assert "appears more than once" in got[1].error and got[1].line == 2


@pytest.mark.parametrize(
    "text, values",
    [
        ('{"a": 1}', [{"a": 1}]),
        ('[{"a": 1}, {"b": 2}]', [{"a": 1}, {"b": 2}]),
        ('{"a": 1}\n{"b": 2}\n', [{"a": 1}, {"b": 2}]),
    ],
)
def test_standard_input_takes_json_or_json_lines(monkeypatch, text, values):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8"))))
    assert [r.value for r in read_records("-")] == values


def test_standard_input_that_is_not_json_is_an_input_error(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"{oops")))
    with pytest.raises(InputError, match="^-:1:2: malformed JSON"):
        list(read_records("-"))


def test_long_standard_input_is_read_as_json_lines(monkeypatch):
    from safetyrules import inputs

    monkeypatch.setattr(inputs, "MAX_BYTES", 64)
    lines = "".join(json.dumps({"n": i, "pad": "x" * 20}) + "\n" for i in range(10))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(lines.encode("utf-8"))))
    assert [r.value["n"] for r in read_records("-")] == list(range(10))
