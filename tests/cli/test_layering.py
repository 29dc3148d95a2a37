"""The library never imports the command line, nor argparse.

A program that uses ``safetyrules`` must not get argument parsing, printing or exit codes with it, and a
command must be free to change without touching the library. Every module of the package is parsed (not
imported) and each import is resolved, relative ones too, wherever it stands -- a function body included.
Only ``safetyrules/cli/`` and the ``__main__`` entry points may import the CLI.
"""

import ast
import os
from typing import List

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE = os.path.join(ROOT, "safetyrules")
CLI = "safetyrules.cli"
#: entry points, which exist to run the command line
ENTRY_POINTS = {"safetyrules.__main__", "safetyrules.audit.__main__", "safetyrules.service.__main__"}


def module_name(path: str) -> str:
    parts = os.path.relpath(path, ROOT)[: -len(".py")].split(os.sep)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is(name: str, target: str) -> bool:
    return name == target or name.startswith(target + ".")


def forbidden_imports(source: str, module: str, is_package: bool) -> List[str]:
    """Each import of the CLI or of argparse in ``source`` (the module ``module``), as 'line: what'."""
    found: List[str] = []
    here = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        names: List[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(here[: len(here) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if called in ("import_module", "__import__"):
                text = node.args[0].value
                names = [text if not text.startswith(".") else ".".join(here) + text]
        for name in names:
            if _is(name, CLI) or _is(name, "argparse"):
                found.append(f"{node.lineno}: {name}")
                break
    return found


def library_modules() -> List[str]:
    paths = []
    for folder, _dirs, files in os.walk(PACKAGE):
        for f in files:
            path = os.path.join(folder, f)
            if f.endswith(".py") and not _is(module_name(path), CLI) and module_name(path) not in ENTRY_POINTS:
                paths.append(path)
    return sorted(paths)


def test_no_library_module_imports_the_cli_or_argparse():
    modules = library_modules()
    assert len(modules) > 40 and any(p.endswith(os.path.join("audit", "runner.py")) for p in modules)
    problems = []
    for path in modules:
        with open(path, encoding="utf-8") as fh:
            source = fh.read()
        for problem in forbidden_imports(source, module_name(path), path.endswith("__init__.py")):
            problems.append(f"{os.path.relpath(path, ROOT)}:{problem}")
    assert problems == [], "library modules import the command line or argparse:\n" + "\n".join(problems)


def test_the_entry_points_are_the_only_exceptions_and_they_would_be_caught():
    for name in ENTRY_POINTS:
        path = os.path.join(ROOT, *name.split(".")) + ".py"
        with open(path, encoding="utf-8") as fh:
            assert forbidden_imports(fh.read(), name, False), f"{name} no longer imports the CLI: drop it from ENTRY_POINTS"


@pytest.mark.parametrize(
    "source, module, is_package, caught",
    [
        ("from .cli import main", "safetyrules.lint", False, True),
        ("from ..cli import rules_specs", "safetyrules.audit.runner", False, True),
        ("from ..cli.common import load", "safetyrules.audit.runner", False, True),
        ("from . import cli", "safetyrules", True, True),
        ("from .. import cli", "safetyrules.checklist.files", False, True),
        ("from .cli import main", "safetyrules.checklist", True, False),  # safetyrules.checklist.cli is not the CLI
        ("from safetyrules import cli", "safetyrules.report", False, True),
        ("import safetyrules.cli.main", "safetyrules.report", False, True),
        ("def f():\n    if True:\n        from .cli import check\n", "safetyrules.lint", False, True),
        ("import importlib\nimportlib.import_module('safetyrules.cli')", "safetyrules.packs", False, True),
        ("import argparse", "safetyrules.fmt", False, True),
        ("from argparse import ArgumentParser", "safetyrules.fmt", False, True),
        ("import safetyrules.client", "safetyrules.fmt", False, False),
        ("from .clinic import x", "safetyrules.fmt", False, False),
        ("from ..checklist import files", "safetyrules.audit.runner", False, False),
    ],
)
def test_forbidden_imports_resolves_relative_and_nested_imports(source, module, is_package, caught):
    assert bool(forbidden_imports(source, module, is_package)) is caught
