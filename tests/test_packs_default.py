"""Installed packs join only when named (issue 18, point 6); broken entry points are named (point 2)."""

import importlib.metadata
import json
import os
import sys
import types
from datetime import date

import pytest

from safetyrules.cli import default_packs, main
from safetyrules.loader import discover_packs, entry_point_problems
from safetyrules.scaffold import new_pack

RULES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "rules")
EXAMPLE = os.path.join(os.path.dirname(RULES), "examples")


class _Dist:
    name = "safetyrules-thirdparty-demo"
    version = "0.3.0"


def _register(monkeypatch, tmp_path, entries):
    """entries: pack name -> (module name, PACK_PATH or None for a module without one)."""
    eps = []
    for name, (module_name, path) in entries.items():
        module = types.ModuleType(module_name)
        if path is not None:
            module.PACK_PATH = str(path)
        else:
            folder = tmp_path / module_name
            folder.mkdir(exist_ok=True)
            module.__file__ = str(folder / "__init__.py")
        monkeypatch.setitem(sys.modules, module_name, module)

        class EntryPoint:
            dist = _Dist()

            def __init__(self, n, m, v):
                self.name, self._module, self.value = n, m, v

            def load(self):
                return self._module

        eps.append(EntryPoint(name, module, module_name))
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group=None: eps if group == "safetyrules.packs" else [])


@pytest.fixture
def thirdparty(monkeypatch, tmp_path):
    created = new_pack("thirdparty-demo", str(tmp_path), today=date(2026, 1, 1))
    manifest = os.path.join(created.pack_dir, "pack.yaml")
    with open(manifest, encoding="utf-8") as fh:
        text = fh.read().replace("version: 0.1.0", "version: 0.3.0")
    with open(manifest, "w", encoding="utf-8") as fh:
        fh.write(text)
    _register(monkeypatch, tmp_path, {"thirdparty-demo": ("thirdparty_pack", created.pack_dir)})
    return created.pack_dir


def _record(facts):
    return {"record_id": "R", "inspection_date": "2026-08-12", "site": {"industry": "thirdparty_demo"}, "facts": facts}


def test_default_is_the_shipped_packs_only(thirdparty):
    assert "thirdparty-demo" in discover_packs()
    assert "thirdparty-demo" not in default_packs()
    assert {"demo", "mining", "power"} <= set(default_packs())


def test_check_without_rules_leaves_the_installed_pack_out(thirdparty, capsys):
    main(["check", os.path.join(EXAMPLE, "coal-underground-2026.json"), "--format", "json"])
    captured = capsys.readouterr()
    names = [p["name"] for p in json.loads(captured.out)["engine"]["packs"]]
    assert "thirdparty-demo" not in names and "mining" in names
    assert "third-party" not in captured.err


def test_named_third_party_pack_is_announced_first_and_marked(thirdparty, capsys, tmp_path):
    record = tmp_path / "r.json"
    record.write_text(json.dumps(_record({"workers_on_shift": 12})), encoding="utf-8")
    assert main(["check", str(record), "--rules", "thirdparty-demo", "--format", "json"]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines()[0] == (
        "safetyrules: third-party packs in use (not shipped with safetyrules): thirdparty-demo 0.3.0 (from safetyrules-thirdparty-demo)"
    )
    packs = json.loads(captured.out)["engine"]["packs"]
    assert packs == [
        {
            "name": "thirdparty-demo",
            "version": "0.3.0",
            "third_party": True,
            "distribution": "safetyrules-thirdparty-demo",
            "path": thirdparty,
        }
    ]


def test_rules_all_includes_installed_packs(thirdparty, capsys):
    assert main(["list", "--rules", "all", "--format", "json"]) == 0
    captured = capsys.readouterr()
    names = {p["name"] for p in json.loads(captured.out)["packs"]}
    assert {"thirdparty-demo", "demo", "mining"} <= names
    assert "thirdparty-demo 0.3.0" in captured.err
    assert main(["list", "--format", "json"]) == 0
    assert "thirdparty-demo" not in {p["name"] for p in json.loads(capsys.readouterr().out)["packs"]}


def test_lint_and_audit_announce_third_party_packs(thirdparty, capsys, tmp_path):
    assert main(["lint", "thirdparty-demo"]) == 0
    assert "third-party packs in use" in capsys.readouterr().err
    from safetyrules.audit.runner import run_audit

    records = tmp_path / "in.jsonl"
    records.write_text(json.dumps(_record({"workers_on_shift": 3})) + "\n", encoding="utf-8")
    summary = run_audit([str(records)], str(tmp_path / "out"), rule_specs=["thirdparty-demo"])
    assert summary["audit"]["rules"][0]["third_party"] is True
    assert "thirdparty-demo 0.3.0 (third-party)" in (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "third-party packs in use" in capsys.readouterr().err


def test_entry_point_to_a_folder_without_the_yaml_is_named(monkeypatch, tmp_path, capsys):
    # what setuptools builds when package data is not declared: the package, without its YAML
    _register(monkeypatch, tmp_path, {"lost-pack": ("lost_pack", None)})
    problem = entry_point_problems()["lost-pack"]
    assert "'lost-pack'" in problem and "safetyrules-thirdparty-demo" in problem and "no pack.yaml" in problem
    assert "left out of the wheel" in problem
    assert main(["list", "--rules", "lost-pack"]) == 2
    err = capsys.readouterr().err
    assert "E-PACK-BROKEN" in err and "no pack named" not in err
    assert main(["test", "lost-pack"]) == 2
    assert "left out of the wheel" in capsys.readouterr().err


def test_manifest_whose_modules_match_nothing_is_an_error(tmp_path, capsys):
    (tmp_path / "pack.yaml").write_text(
        "name: empty\nversion: 0.1.0\ntitle: {zh: 空, en: empty}\nmodules: ['*.yaml']\n", encoding="utf-8"
    )
    assert main(["lint", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "E-NO-MODULES" in err and "'empty'" in err
