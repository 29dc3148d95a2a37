"""The ``safetyrules`` command line, one module per command (``check``, ``lint``, ``listing``, ``testing``,
``schema``, ``explain``, ``overlay``, ``new``, ``fmt``, ``diff``, ``docs``, ``audit``), assembled in ``main``.

The library never imports this package (``tests/cli/test_layering.py`` holds it to that): a program using
``safetyrules`` gets no argparse, no printing and no exit codes from it.
"""

from .common import (
    EXIT_ERROR,
    EXIT_FOUND,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_UNDETERMINED,
    default_packs,
    rules_specs,
)
from .main import build_parser, main

__all__ = [
    "EXIT_ERROR",
    "EXIT_FOUND",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_UNDETERMINED",
    "build_parser",
    "default_packs",
    "main",
    "rules_specs",
]
