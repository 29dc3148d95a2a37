"""Build hook: compiles the C evaluator (safetyrules/_evaluator.c) into the wheel.

The library works without it, on generated Python only (several times slower on large batches):
when no C compiler is found the build warns and goes on, and
``safetyrules.backends.compiled.AVAILABLE`` is False. Set ``SAFETYRULES_REQUIRE_COMPILED=1`` to
make that an error instead. An editable install (``pip install -e .``) builds the extension in
place, next to the C source.
"""

from __future__ import annotations

import os
import tempfile

try:
    from hatchling.builders.hooks.plugin.interface import BuildHookInterface
except ImportError:  # tools/sanitize.sh imports build_extension outside a hatchling build
    BuildHookInterface = object  # type: ignore[misc,assignment]

EXTENSION = "safetyrules._evaluator"
SOURCE = "safetyrules/_evaluator.c"


def build_extension(root: str, inplace: bool, work: str) -> str:
    """Compile the extension with setuptools' build_ext (the compiler and flags Python was built
    with); returns the path of the built module."""
    from setuptools import Distribution, Extension

    here = os.getcwd()
    os.chdir(root)
    try:
        extension = Extension(EXTENSION, [SOURCE], extra_compile_args=["-O2"])
        dist = Distribution({"name": "safetyrules", "ext_modules": [extension], "script_name": "setup.py"})
        command = dist.get_command_obj("build_ext")
        command.inplace = inplace
        command.build_lib = os.path.join(work, "lib")
        command.build_temp = os.path.join(work, "temp")
        command.ensure_finalized()
        command.run()
        return os.path.abspath(command.get_ext_fullpath(EXTENSION))
    finally:
        os.chdir(here)


class CompiledEvaluatorHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel":
            return
        work = tempfile.mkdtemp(prefix="safetyrules-build-")
        try:
            built = build_extension(self.root, inplace=version == "editable", work=work)
        except Exception as exc:  # no compiler, no headers: the pure-Python library still works
            if os.environ.get("SAFETYRULES_REQUIRE_COMPILED"):
                raise
            self.app.display_warning(
                f"safetyrules: the compiled evaluator was not built ({exc}); the library will use generated Python only"
            )
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":
            build_data["force_include"][built] = f"safetyrules/{os.path.basename(built)}"
