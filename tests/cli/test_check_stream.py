"""`check --format json|jsonl` writes each result as it is made, in the bytes it wrote when it kept them all."""

import glob
import json
import os
import sys

import pytest

from safetyrules import RecordError, load_rules
from safetyrules.cli import main
from safetyrules.cli.common import EXIT_ERROR, EXIT_FOUND, EXIT_OK, EXIT_UNDETERMINED, print_json
from safetyrules.inputs import InputError, read_records
from safetyrules.ruleset import RuleSet
from tests.conftest import EXAMPLES, RULES, demo_record

DEMO = os.path.join(RULES, "demo")
RANK = {EXIT_OK: 0, EXIT_UNDETERMINED: 1, EXIT_FOUND: 2, EXIT_ERROR: 3}


def kept_until_the_end(paths, fmt, rules_spec):
    """What `check` wrote before it streamed: every output kept in a list and written at the end
    (nothing on standard output when a file cannot be read), with its exit code."""
    rules = load_rules(rules_spec)
    outputs, worst = [], EXIT_OK
    try:
        for path in paths:
            for raw in read_records(path):
                if raw.error:
                    worst = EXIT_ERROR
                    outputs.append(
                        {"source": raw.source, "error": {"record_id": None, "errors": [{"path": "$", "message": raw.error}]}}
                    )
                    continue
                try:
                    report = rules.evaluate(raw.value)
                except RecordError as exc:
                    worst = EXIT_ERROR
                    outputs.append({"source": raw.source, "error": exc.to_json()})
                    continue
                code = {"major_hazard_found": EXIT_FOUND, "no_major_hazard_found": EXIT_OK}.get(report.status, EXIT_UNDETERMINED)
                worst = worst if RANK[worst] >= RANK[code] else code
                outputs.append(report.to_json())
    except InputError:
        return "", EXIT_ERROR

    class Text:
        text = ""

        def write(self, s):
            self.text += s

    out = Text()
    if fmt == "json":
        print_json(outputs[0] if len(outputs) == 1 else outputs, out)
    else:
        for o in outputs:
            out.write(json.dumps(o, ensure_ascii=False) + "\n")
    return out.text, worst


def batch(tmp_path, name, lines):
    path = tmp_path / name
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return str(path)


@pytest.fixture
def inputs(tmp_path):
    clean = demo_record({"annual_output_t": 1, "approved_capacity_t": 10, "max_quarter_output_t": 1, "working_faces": []})
    missing = demo_record({})
    bad = demo_record({"annual_output_t": "lots"})
    example = os.path.join(EXAMPLES, "demo-underground.json")
    return {
        "none": [batch(tmp_path, "empty.jsonl", [])],
        "one": [example],
        "two": [batch(tmp_path, "two.jsonl", [json.dumps(clean), json.dumps(missing, ensure_ascii=False)])],
        "mixed": [
            batch(tmp_path, "mixed.jsonl", [json.dumps(clean), "{broken", json.dumps(bad), json.dumps(missing)]),
            example,
            batch(tmp_path, "one.jsonl", [json.dumps(clean)]),
        ],
    }


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
@pytest.mark.parametrize("case", ["none", "one", "two", "mixed"])
def test_same_bytes_and_exit_code_as_when_kept(inputs, capsys, fmt, case):
    expected, code = kept_until_the_end(inputs[case], fmt, DEMO)
    assert main(["check", *inputs[case], "--rules", DEMO, "--format", fmt]) == code
    assert capsys.readouterr().out == expected
    if fmt == "json":
        json.loads(expected)  # one document: an object, or an array of them


def test_same_bytes_on_every_shipped_example(capsys):
    examples = sorted(glob.glob(os.path.join(EXAMPLES, "*.json")))
    for fmt in ("json", "jsonl"):
        expected, code = kept_until_the_end(examples, fmt, RULES)
        assert main(["check", *examples, "--rules", RULES, "--format", fmt]) == code
        assert capsys.readouterr().out == expected


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_an_unreadable_later_file_writes_nothing_as_before(inputs, tmp_path, capsys, fmt):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    for last in (str(broken), str(tmp_path / "missing.json")):
        paths = inputs["mixed"] + [last]
        assert kept_until_the_end(paths, fmt, DEMO) == ("", EXIT_ERROR)
        assert main(["check", *paths, "--rules", DEMO, "--format", fmt]) == EXIT_ERROR
        captured = capsys.readouterr()
        assert captured.out == ""
        assert "mixed.jsonl:2" in captured.err and "mixed.jsonl:3" in captured.err  # the earlier records were judged
        assert captured.err.rstrip().splitlines()[-1].startswith(f"safetyrules: {last}")


@pytest.mark.parametrize("fmt, pattern", [("jsonl", "ewewew"), ("json", "eewweww")])
def test_results_are_written_as_they_are_made(tmp_path, monkeypatch, fmt, pattern):
    """Each result is on its way out before the next record is judged (JSON holds back only the first,
    which is the whole output when it is alone)."""
    log = []
    evaluate = RuleSet.evaluate

    def logged(self, *args, **kwargs):
        log.append("e")
        return evaluate(self, *args, **kwargs)

    class Out:
        def write(self, text):
            log.append("w")
            return len(text)

        def flush(self):
            pass

    monkeypatch.setattr(RuleSet, "evaluate", logged)
    records = [json.dumps(demo_record({}, record_id=f"R{i}")) for i in range(3)]
    path = batch(tmp_path, "three.jsonl", records)
    monkeypatch.setattr(sys, "stdout", Out())
    assert main(["check", path, "--rules", DEMO, "--format", fmt]) == EXIT_UNDETERMINED
    assert "".join(log) == pattern  # JSON: the first two together, the third, the closing bracket
