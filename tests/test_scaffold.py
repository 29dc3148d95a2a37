"""``safetyrules new pack|module``: what it writes passes lint and test unchanged (issue 18, point 1)."""

import json

import pytest

from safetyrules.cli import main


def _new_pack(tmp_path, *extra):
    assert main(["new", "pack", "acme-gas", "--dir", str(tmp_path), *extra]) == 0
    return tmp_path / "acme-gas"


def test_new_pack_writes_a_complete_project(tmp_path, capsys):
    root = _new_pack(tmp_path)
    pkg = root / "safetyrules_acme_gas"
    for rel in (
        "pyproject.toml",
        "README.md",
        "examples/record.json",
        "safetyrules_acme_gas/__init__.py",
        "safetyrules_acme_gas/pack.yaml",
        "safetyrules_acme_gas/acme-gas-example.yaml",
        "safetyrules_acme_gas/tests/acme-gas-example.test.yaml",
    ):
        assert (root / rel).is_file(), rel
    pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    assert '[project.entry-points."safetyrules.packs"]\nacme-gas = "safetyrules_acme_gas"' in pyproject
    assert 'safetyrules_acme_gas = ["*.yaml", "tests/*.yaml"]' in pyproject  # the YAML goes into the wheel
    manifest = (pkg / "pack.yaml").read_text(encoding="utf-8")
    assert "name: acme-gas" in manifest and "- id: acme_gas" in manifest
    assert "created" in capsys.readouterr().out


def test_generated_pack_passes_lint_and_test_unchanged(tmp_path, capsys):
    root = _new_pack(tmp_path)
    capsys.readouterr()
    assert main(["lint", str(root), "--format", "json"]) == 0
    lint = json.loads(capsys.readouterr().out)
    assert lint["ok"] and lint["modules"] == 1 and lint["rules"] == 1
    assert not [f for f in lint["findings"] if f["severity"] != "note"]  # only the 'placeholder' notes
    assert main(["test", str(root), "--min-coverage", "100", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)["packs"][0]
    assert result["cases"] == 3 and result["failed"] == 0
    assert result["rule_coverage_percent"] == result["condition_coverage_percent"] == result["threshold_coverage_percent"] == 100
    assert main(["fmt", "--check", str(root / "safetyrules_acme_gas")]) == 0  # already in the canonical layout


def test_generated_example_record_is_judged(tmp_path, capsys):
    root = _new_pack(tmp_path)
    capsys.readouterr()
    assert main(["check", str(root / "examples" / "record.json"), "--rules", str(root), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [d["rule_id"] for d in report["determinations"]] == ["acme-gas-example.a1.i1"]


def test_new_module_joins_the_pack_and_still_passes(tmp_path, capsys):
    root = _new_pack(tmp_path, "--industry", "acme_storage")
    pkg = root / "safetyrules_acme_gas"
    assert main(["new", "module", "acme-gas-storage-2026", "--pack", str(pkg), "--series", "acme-gas-storage"]) == 0
    assert (pkg / "acme-gas-storage-2026.yaml").is_file() and (pkg / "tests" / "acme-gas-storage-2026.test.yaml").is_file()
    assert "industry: acme_storage" in (pkg / "acme-gas-storage-2026.yaml").read_text(encoding="utf-8")
    assert main(["lint", str(pkg)]) == 0
    assert main(["test", str(pkg), "--min-coverage", "100"]) == 0
    assert "6 passed, 0 failed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["new", "pack", "Bad_Name"], "pack name 'Bad_Name'"),
        (["new", "pack", "ok", "--industry", "Bad-Industry"], "industry id"),
        (["new", "module", "m-1", "--pack", "."], "no pack.yaml"),
    ],
)
def test_bad_names_exit_2(tmp_path, capsys, argv, fragment, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert fragment in capsys.readouterr().err


def test_nothing_is_overwritten_without_force(tmp_path, capsys):
    root = _new_pack(tmp_path)
    module = root / "safetyrules_acme_gas" / "acme-gas-example.yaml"
    module.write_text("# my work\n", encoding="utf-8")
    assert main(["new", "pack", "acme-gas", "--dir", str(tmp_path)]) == 2
    assert "exists already" in capsys.readouterr().err
    assert module.read_text(encoding="utf-8") == "# my work\n"
    assert main(["new", "pack", "acme-gas", "--dir", str(tmp_path), "--force"]) == 0
    assert "schema_version: 1" in module.read_text(encoding="utf-8")


def test_module_outside_the_manifest_patterns_is_reported(tmp_path, capsys):
    root = _new_pack(tmp_path)
    pkg = root / "safetyrules_acme_gas"
    manifest = pkg / "pack.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('"*.yaml"', "acme-gas-example.yaml"), encoding="utf-8")
    assert main(["new", "module", "other", "--pack", str(pkg)]) == 2
    assert "modules: patterns do not include it" in capsys.readouterr().err
