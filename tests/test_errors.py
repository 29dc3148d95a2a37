"""Diagnostics: one type for every located problem, printed one way."""

import pytest

from safetyrules.errors import SEVERITIES, Diagnostic, LoadError, Location


def test_an_error_prints_without_its_severity_a_warning_or_note_with_it():
    where = Location("rules/x.yaml", 12, 9)
    assert (
        str(Diagnostic("E-UNKNOWN-FACT", "unknown fact 'ch4'", where)) == "rules/x.yaml:12:9: E-UNKNOWN-FACT unknown fact 'ch4'"
    )
    assert (
        str(Diagnostic("L-UNUSED-FACT", "fact 'y' is unused", where, "warning"))
        == "rules/x.yaml:12:9: warning: L-UNUSED-FACT fact 'y' is unused"
    )
    assert str(Diagnostic("L-PARTIAL", "partly encoded", Location("m.yaml"), "note")) == "m.yaml: note: L-PARTIAL partly encoded"


def test_to_json_carries_the_severity_and_the_location():
    d = Diagnostic("L-EMPTY", "no rules", Location("m.yaml", 3, 1), severity="warning")
    assert d.to_json() == {
        "code": "L-EMPTY",
        "severity": "warning",
        "message": "no rules",
        "path": "m.yaml",
        "line": 3,
        "column": 1,
    }


@pytest.mark.parametrize("severity", ["info", "Error", ""])
def test_an_unknown_severity_is_refused(severity):
    with pytest.raises(ValueError, match="severity"):
        Diagnostic("L-X", "m", Location("m.yaml"), severity)


def test_severities_are_ordered_most_serious_first_and_load_errors_print_each_diagnostic():
    assert SEVERITIES[0] == "error"
    err = LoadError([Diagnostic("E-A", "one", Location("a.yaml", 1, 1)), Diagnostic("E-B", "two", Location("b.yaml"))])
    assert str(err) == "a.yaml:1:1: E-A one\nb.yaml: E-B two"
