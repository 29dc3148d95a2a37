"""Start-up: compiling with the cycle collector paused leaves it as it was, also when loading fails."""

import gc

import pytest

from safetyrules import LoadError
from safetyrules.compiler import load_ir
from tests.helpers import write_module


@pytest.mark.parametrize("enabled", [True, False])
def test_load_ir_restores_the_collector(tmp_path, enabled):
    good = write_module(tmp_path, "good.yaml", facts={"x": {"type": "number"}}, rules=[("r1", "x > 1")])
    bad = write_module(tmp_path, "bad.yaml", id="b", series="b", facts={"x": {"type": "number"}}, rules=[("r1", "y > 1")])
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        assert [m.module.id for m in load_ir([good]).modules] == ["t-mod"]
        assert gc.isenabled() is enabled
        with pytest.raises(LoadError) as info:
            load_ir([bad])
        assert [d.code for d in info.value.diagnostics] == ["E-UNKNOWN-FACT"]
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()
