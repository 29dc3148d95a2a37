"""``--no-cache``: the command compiles afresh and writes nothing to the compiled-rules cache."""

import os

from safetyrules.cli import main
from tests.conftest import ROOT

EXAMPLE = os.path.join(ROOT, "examples", "demo-underground.json")


def test_no_cache_writes_nothing_and_the_default_caches(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SAFETYRULES_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("SAFETYRULES_NO_CACHE", "")  # restored after the test: main() sets it for --no-cache
    assert main(["--no-cache", "check", EXAMPLE, "--rules", "demo"]) == 1
    assert os.environ["SAFETYRULES_NO_CACHE"] == "1"
    assert os.listdir(tmp_path) == []
    monkeypatch.setenv("SAFETYRULES_NO_CACHE", "")
    assert main(["check", EXAMPLE, "--rules", "demo"]) == 1
    assert os.listdir(tmp_path) != []
    capsys.readouterr()
