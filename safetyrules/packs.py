"""Which packs a command uses by default, and which of those in use are third-party.

An installed pack joins nothing by default: ``check``, ``audit``, ``lint``, ``list`` and ``test``
use the shipped packs, plus the packs named with ``--rules`` (or as arguments); ``--rules all`` uses
every shipped and installed pack. Whenever a third-party pack is in use, every output says so at its
top (a line on stderr, and ``third_party: true`` with its distribution in a JSON result's
``engine.packs``), so that a test pack cannot join an audit unnoticed.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, Iterable, List, Optional, Sequence, TextIO, TypedDict

if TYPE_CHECKING:
    from .model import Pack

#: the pack spec that stands for every shipped and installed pack
ALL = "all"


@dataclass(frozen=True)
class InstalledPack:
    """A pack registered under the ``safetyrules.packs`` entry point group."""

    name: str
    path: str
    distribution: Optional[str]
    version: Optional[str]


def _shipped_root() -> Optional[str]:
    from .loader import shipped_packs_root

    root = shipped_packs_root()
    return os.path.realpath(root) if root else None


def is_shipped(path: str) -> bool:
    root = _shipped_root()
    if not root:
        return False
    real = os.path.realpath(path)
    return root is not None and (real == root or real.startswith(root + os.sep))


def _dedupe(names: List[str]) -> List[str]:
    # "construction" includes both editions; the per-edition packs would load the same modules twice.
    return [n for n in names if not (n.startswith("construction-") and "construction" in names)]


def shipped_pack_names() -> List[str]:
    from .loader import discover_packs

    return _dedupe(sorted(n for n, path in discover_packs().items() if is_shipped(path)))


def all_pack_names() -> List[str]:
    from .loader import discover_packs

    return _dedupe(sorted(discover_packs()))


def expand_specs(specs: Iterable[str]) -> List[str]:
    """``all`` (when no folder or file of that name exists) becomes every shipped and installed pack."""
    out: List[str] = []
    for spec in specs:
        if spec == ALL and not os.path.exists(spec):
            out.extend(n for n in all_pack_names() if n not in out)
        elif spec not in out:
            out.append(spec)
    return out


def installed_packs() -> Dict[str, InstalledPack]:
    """Third-party packs registered under the entry point group, by pack name (as ``discover_packs``
    resolves them); the shipped packs are not listed."""
    from importlib.metadata import entry_points

    from .loader import discover_packs

    found = discover_packs()
    out: Dict[str, InstalledPack] = {}
    for ep in entry_points(group="safetyrules.packs"):
        path = found.get(ep.name)
        if path is None or is_shipped(path) or ep.name in out:
            continue
        dist = getattr(ep, "dist", None)
        out[ep.name] = InstalledPack(ep.name, path, getattr(dist, "name", None), getattr(dist, "version", None))
    return out


class _PackEntryRequired(TypedDict):
    name: str
    version: str


class PackEntry(_PackEntryRequired, total=False):
    """A pack in a result's ``engine.packs``; the optional keys only for a third-party pack."""

    third_party: bool
    distribution: Optional[str]
    path: str


def third_party_in_use(packs: Sequence[Pack]) -> List[Pack]:
    """The loaded packs that are not shipped with the library."""
    return [p for p in packs if p.path and not is_shipped(p.path)]


def describe(pack: Pack) -> PackEntry:
    """A pack as ``engine.packs`` lists it: third-party packs say so, with where they came from."""
    entry: PackEntry = {"name": pack.name, "version": pack.version}
    if pack.path and not is_shipped(pack.path):
        entry["third_party"] = True
        installed = _installed_or_none().get(pack.name)
        if installed and os.path.realpath(installed.path) == os.path.realpath(pack.path):
            entry["distribution"] = installed.distribution
        entry["path"] = pack.path
    return entry


def _installed_or_none() -> Dict[str, InstalledPack]:
    """The installed packs, or none where the environment cannot list them (asked only when a
    third-party pack is in use, so shipped-only runs never pay)."""
    try:
        return installed_packs()
    except Exception:  # pragma: no cover - a broken environment must not stop an evaluation
        return {}


def banner(packs: Sequence[Pack]) -> Optional[str]:
    """The line every command prints first when third-party packs are in use, else None."""
    third = third_party_in_use(packs)
    if not third:
        return None
    parts = []
    for p in third:
        d = describe(p)
        origin = f"from {d['distribution']}" if d.get("distribution") else f"at {p.path}"
        parts.append(f"{p.name} {p.version} ({origin})")
    return "third-party packs in use (not shipped with safetyrules): " + ", ".join(parts)


def announce(packs: Sequence[Pack], stream: Optional[TextIO] = None) -> None:
    line = banner(packs)
    if line:
        print(f"safetyrules: {line}", file=stream or sys.stderr)
