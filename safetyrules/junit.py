"""JUnit XML for CI systems: one test suite per pack, one test case per rule test case."""

from __future__ import annotations

import os
import tempfile
from typing import Any, Iterable, Mapping
from xml.etree import ElementTree as ET


def write_junit(path: str, summaries: Iterable[Mapping[str, Any]]) -> None:
    root = ET.Element("testsuites")
    for s in summaries:
        suite = ET.SubElement(root, "testsuite", name=s["pack"], tests=str(s["cases"]), failures=str(s["failed"]))
        failed = {f["case"]: f for f in s["failures"]}
        for name in s.get("case_names") or [f["case"] for f in s["failures"]]:
            case = ET.SubElement(suite, "testcase", classname=s["pack"], name=name)
            if name in failed:
                failure = ET.SubElement(case, "failure", message=f"{failed[name]['location']}")
                failure.text = "\n".join(failed[name]["problems"])
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".xml")
    with os.fdopen(fd, "wb") as fh:
        ET.ElementTree(root).write(fh, encoding="utf-8", xml_declaration=True)
    os.replace(tmp, path)
