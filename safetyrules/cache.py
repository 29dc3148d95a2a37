"""A cache of compiled rule sets, kept like Python's ``.pyc`` files, so that start-up skips the YAML.

Loading the mining pack means reading a megabyte of YAML, validating it against the module schema and
type-checking every condition (about 0.4 s); unpickling the compiled result takes a tenth of that. An
entry is the pickled ``RuleSetIR`` of one load request, keyed by everything the compilation reads:

* every module file's bytes and path (as given and resolved), in load order, with its pack's name;
* every pack as the manifest resolved it (name, version, industries, included packs...) and the bytes
  of its ``pack.yaml``;
* the library version, ``ir.lowered.ABI_VERSION``, the Python implementation and version, and a
  fingerprint of the library's own files (its ``.py`` sources, the compiled evaluator and the
  schemas), because in development the version does not change when the compiler does.

Where it lives: ``$SAFETYRULES_CACHE_DIR``, else ``$XDG_CACHE_HOME/safetyrules``, else the platform's
user cache folder (``~/.cache/safetyrules``, ``~/Library/Caches/safetyrules``, ``%LOCALAPPDATA%``).
``SAFETYRULES_NO_CACHE=1`` (or ``load_rules(..., cache=False)``) turns it off.

Pickle runs code named by the file it reads, so the cache trusts its folder the way Python trusts
``__pycache__``: it is the user's own. A folder that others can write to, or that belongs to someone
else, is refused (the rules are compiled as if there were no cache, with a warning). Each entry carries
a digest of its payload, checked before unpickling, and the key it was written for, checked after: a
truncated, garbled or foreign file is never unpickled or never used, and is replaced by a fresh
compilation. Entries are written to a temporary file and renamed into place, so a reader never sees
half an entry; the folder keeps the most recently used entries only (``MAX_ENTRIES``, ``MAX_BYTES``).
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import pickle
import stat
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Mapping, Optional, Sequence, Set, Tuple, TypedDict

if TYPE_CHECKING:  # the compiler is imported only on a miss
    from .ir.ruleset import RuleSetIR
    from .model import Pack

#: the (pack, module file) pairs of one resolution, as ``loader.resolve_sources`` gives them
Pairs = Sequence[Tuple[Optional["Pack"], str]]


class _RecordBody(TypedDict):
    """A resolution record as written; one read back is untrusted JSON, checked field by field."""

    kinds: List[str]
    roots: List[List[str]]
    files: List[List[str]]
    ir_key: str


#: environment variables: the folder, and the switch that turns the cache off
ENV_DIR = "SAFETYRULES_CACHE_DIR"
ENV_DISABLE = "SAFETYRULES_NO_CACHE"
#: the newest entries kept (one per load request: pack set and module versions)
MAX_ENTRIES = 24
#: and at most this many bytes of entries (the mining pack is about 1 MB)
MAX_BYTES = 64 * 1024 * 1024

_MAGIC = b"SRIRCACHE\x00"
#: the layout of an entry file; change it when the header changes
_FORMAT = 1
_DIGEST = 32
_PREFIX = "ir-"
_SUFFIX = ".pickle"


@dataclass(frozen=True)
class CacheFolder:
    """A usable cache folder, or why none is used (``path`` is then None)."""

    path: Optional[str]
    reason: str = ""
    #: the folder exists but is not the user's own: worth a warning, unlike a folder that cannot be made
    untrusted: bool = False


def disabled_by_environment() -> bool:
    """``SAFETYRULES_NO_CACHE`` set to anything but empty or ``0`` turns the cache off."""
    return os.environ.get(ENV_DISABLE, "").strip() not in ("", "0")


def default_folder() -> str:
    """Where entries go when ``$SAFETYRULES_CACHE_DIR`` is not set."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return os.path.join(xdg, "safetyrules")
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(os.path.expanduser("~"), "AppData", "Local")
        return os.path.join(base, "safetyrules", "Cache")
    if sys.platform == "darwin":
        return os.path.join(os.path.expanduser("~"), "Library", "Caches", "safetyrules")
    return os.path.join(os.path.expanduser("~"), ".cache", "safetyrules")


def cache_folder(create: bool = False) -> CacheFolder:
    """The folder to use, made (private to the user) when ``create``, or the reason it is refused."""
    path = os.environ.get(ENV_DIR) or default_folder()
    path = os.path.abspath(path)
    if create:
        try:
            os.makedirs(path, mode=0o700, exist_ok=True)
        except OSError as exc:
            return CacheFolder(None, f"cannot create the cache folder {path}: {exc.strerror or exc}")
    try:
        st = os.stat(path)
    except OSError:
        return CacheFolder(None, f"no cache folder at {path}")
    if not stat.S_ISDIR(st.st_mode):
        return CacheFolder(None, f"the cache folder {path} is not a folder")
    problem = _trust_problem(path, st)
    if problem:
        return CacheFolder(None, problem, untrusted=True)
    return CacheFolder(path)


def _trust_problem(path: str, st: os.stat_result) -> str:
    """Why entries in this folder cannot be trusted to be the user's own, or ''."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:  # Windows: the user's profile folders are private by default
        return ""
    if st.st_uid != getuid():
        return f"the cache folder {path} belongs to another user; not used (set {ENV_DIR} to a folder of your own)"
    if st.st_mode & (stat.S_IWOTH | stat.S_IWGRP):
        return f"the cache folder {path} is writable by others; not used (set {ENV_DIR} to a private folder)"
    return ""


# ----------------------------------------------------------------------------------------- the key


def _library_root() -> str:
    return os.path.dirname(os.path.abspath(__file__))


def _library_files(root: str) -> Iterator[str]:
    for entry in os.scandir(root):
        if entry.is_dir(follow_symlinks=False):
            if entry.name not in ("__pycache__", "_packs") and not entry.name.startswith("."):
                yield from _library_files(entry.path)
        elif entry.name.endswith((".py", ".so", ".pyd", ".json")):
            yield entry.path


def code_fingerprint() -> bytes:
    """A digest of the library's own files: a changed compiler or IR class means a new key.

    Contents rather than modification times (about 1 MB, under 2 ms): a checkout or a copy that keeps
    times must not reuse entries made by other code.
    """
    root = _library_root()
    h = hashlib.blake2b(digest_size=_DIGEST)
    for path in sorted(_library_files(root)):
        with open(path, "rb") as fh:
            content = fh.read()
        h.update(os.path.relpath(path, root).encode("utf-8", "surrogateescape") + b"\0")
        h.update(hashlib.blake2b(content, digest_size=_DIGEST).digest())
    return h.digest()


def _file_digest(path: str) -> bytes:
    with open(path, "rb") as fh:
        return hashlib.blake2b(fh.read(), digest_size=_DIGEST).digest()


def _resolved(specs: Sequence[str]) -> Optional[Pairs]:
    """(pack, module file) pairs of a clean resolution, else None (the compiler will report why)."""
    from .loader import resolve_sources

    pairs, diagnostics = resolve_sources(specs)
    if not pairs or any(d.severity == "error" for d in diagnostics):
        return None
    return pairs


def _base_key(fingerprint: bytes, *parts: object) -> "hashlib.blake2b":
    from . import __version__
    from .ir.lowered import ABI_VERSION

    h = hashlib.blake2b(digest_size=_DIGEST)
    for item in (_FORMAT, __version__, ABI_VERSION, sys.implementation.cache_tag, sys.version) + parts:
        h.update(repr(item).encode("utf-8", "surrogateescape") + b"\0")
    h.update(fingerprint)
    return h


def request_key(specs: Sequence[str], fingerprint: Optional[bytes] = None, pairs: Optional[Pairs] = None) -> Optional[bytes]:
    """The key of the compiled rule set of a load request, or None when it cannot be cached (the
    sources do not resolve cleanly: the compiler then reports why, and nothing is stored)."""
    from .loader import MANIFEST_NAME

    if pairs is None:
        pairs = _resolved(specs)
        if pairs is None:
            return None
    h = _base_key(fingerprint if fingerprint is not None else code_fingerprint(), "rules")

    def part(*items: object) -> None:
        for item in items:
            h.update(repr(item).encode("utf-8", "surrogateescape") + b"\0")

    packs_seen: Set[str] = set()
    try:
        for pack, path in pairs:
            part("module", path, os.path.realpath(path), pack.name if pack else None)
            h.update(_file_digest(path))
            if pack is not None and pack.name not in packs_seen:
                packs_seen.add(pack.name)
                # the Pack as resolved covers included manifests; the bytes cover the rest of this one
                part("pack", pack)
                manifest = os.path.join(pack.path, MANIFEST_NAME)
                part(os.path.realpath(manifest))
                h.update(_file_digest(manifest))
    except OSError:  # a file vanished or cannot be read: the compiler says which
        return None
    return h.digest()


# --------------------------------------------------------------- the resolution, without resolving
#
# Resolving a pack name reads every shipped manifest, asks the installed distributions for entry
# points and validates manifests against their schema (which imports jsonschema): 50-100 ms, more than
# the rest of a warm start. A resolution record remembers what one request resolved to and what that
# depended on -- the folder trees that were searched (names, kinds, sizes and modification times of
# every entry), the bytes of every manifest and module file -- and stands in for the resolution while
# all of that is unchanged. Anything it cannot vouch for (a third-party pack found by entry point, a
# symbolic link, a very large tree) gets no record and is resolved every time.

#: a searched tree with more entries than this is not recorded (a project folder with a .git)
MAX_TREE_ENTRIES = 5000


class _Unrecordable(Exception):
    """This request's resolution depends on something a record cannot check cheaply."""


def _tree_signature(root: str) -> str:
    """Every entry under ``root``: name, kind, and for files size and modification time."""
    h = hashlib.blake2b(digest_size=_DIGEST)
    try:
        st = os.stat(root)
    except OSError:
        return "missing"
    if not stat.S_ISDIR(st.st_mode):
        return f"file:{st.st_size}:{st.st_mtime_ns}"
    count = 0
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                found = sorted(it, key=lambda e: e.name)
        except OSError:
            raise _Unrecordable(folder) from None
        h.update(os.path.relpath(folder, root).encode("utf-8", "surrogateescape") + b"\1")
        for e in found:
            if e.is_symlink():
                raise _Unrecordable(e.path)
            st = e.stat(follow_symlinks=False)
            name = e.name.encode("utf-8", "surrogateescape")
            if stat.S_ISDIR(st.st_mode):
                h.update(name + b"\0d\n")
                stack.append(e.path)
            else:
                h.update(name + f"\0f\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
            count += 1
            if count > MAX_TREE_ENTRIES:
                raise _Unrecordable(root)
    return h.hexdigest()


def _spec_kind(spec: str) -> str:
    if os.path.isdir(spec):
        return "dir"
    if os.path.isfile(spec):
        return "file"
    return "missing" if os.path.lexists(spec) else "name"


def _static_prefix(folder: str, pattern: str) -> str:
    """The folder a glob pattern searches: its path up to the first component with a wildcard."""
    parts = pattern.replace("\\", "/").split("/")
    fixed = []
    for p in parts[:-1]:
        if any(ch in p for ch in "*?["):
            break
        fixed.append(p)
    return os.path.realpath(os.path.join(folder, *fixed))


def _manifest_inputs(folder: str, roots: Set[str], files: Set[str], seen: Set[str]) -> None:
    """What ``loader.read_pack`` reads for the pack in ``folder``: its manifest, the folders its module
    patterns search and, recursively, its included packs."""
    from .loader import MANIFEST_NAME
    from .yamlsafe import YamlError, decode_text, load_yaml_text

    real = os.path.realpath(folder)
    if real in seen:
        return
    seen.add(real)
    manifest = os.path.join(real, MANIFEST_NAME)
    try:
        with open(manifest, "rb") as fh:
            doc, _ = load_yaml_text(decode_text(fh.read(), manifest), manifest)
    except (OSError, YamlError):
        raise _Unrecordable(manifest) from None
    if not isinstance(doc, dict):
        raise _Unrecordable(manifest)
    files.add(manifest)
    roots.add(real)
    for key in ("modules", "tests"):
        for pattern in doc.get(key) or ():
            roots.add(_static_prefix(real, str(pattern)))
    for sub in doc.get("include") or ():
        _manifest_inputs(os.path.normpath(os.path.join(real, str(sub))), roots, files, seen)


def _resolution_inputs(specs: Sequence[str], pairs: Pairs) -> Tuple[List[str], Tuple[str, ...], List[str]]:
    """The searched trees, the files read and each spec's kind behind one clean resolution."""
    from .loader import MANIFEST_NAME, shipped_packs_root
    from .packs import is_shipped

    roots: Set[str] = set()
    files: Set[str] = set()
    kinds: List[str] = []
    seen: Set[str] = set()
    names = {pack.name: pack for pack, _ in pairs if pack is not None}
    for spec in specs:
        kind = _spec_kind(spec)
        kinds.append(kind)
        if kind == "dir":
            roots.add(os.path.realpath(spec))
        elif kind == "file":
            files.add(os.path.realpath(spec))
            if os.path.basename(spec) == MANIFEST_NAME:
                roots.add(os.path.realpath(os.path.dirname(spec) or "."))
        elif kind == "name":
            shipped = shipped_packs_root()
            pack = names.get(spec)
            # a shipped pack is found before any entry point, so only the shipped folder decides it
            if shipped is None or pack is None or not is_shipped(pack.path):
                raise _Unrecordable(spec)
            roots.add(os.path.realpath(shipped))
            for dirpath, _dirs, found in os.walk(shipped):
                if MANIFEST_NAME in found:
                    files.add(os.path.realpath(os.path.join(dirpath, MANIFEST_NAME)))
        else:
            raise _Unrecordable(spec)
    for pack in names.values():
        _manifest_inputs(pack.path, roots, files, seen)
    for _, path in pairs:
        real = os.path.realpath(path)
        files.add(real)
        roots.add(os.path.dirname(real))
    outer: List[str] = []
    for root in sorted(roots):  # a folder inside another one's tree is already covered
        if not any(root == o or root.startswith(o.rstrip(os.sep) + os.sep) for o in outer):
            outer.append(root)
    return outer, tuple(sorted(files)), kinds


def _record_key(specs: Sequence[str], fingerprint: bytes) -> bytes:
    return _base_key(fingerprint, "resolution", tuple(specs), os.path.realpath(os.getcwd())).digest()


def _record_body(specs: Sequence[str], pairs: Pairs, ir_key: bytes) -> Optional[_RecordBody]:
    try:
        roots, files, kinds = _resolution_inputs(specs, pairs)
        return {
            "kinds": kinds,
            "roots": [[r, _tree_signature(r)] for r in roots],
            "files": [[f, _file_digest(f).hex()] for f in files],
            "ir_key": ir_key.hex(),
        }
    except (_Unrecordable, OSError):
        return None


def _record_holds(specs: Sequence[str], body: Mapping[str, Any]) -> Optional[bytes]:
    """The rule set key a record gives, if everything it depends on is as it was."""
    try:
        if body["kinds"] != [_spec_kind(s) for s in specs]:
            return None
        for root, signature in body["roots"]:
            if _tree_signature(root) != signature:
                return None
        for path, digest in body["files"]:
            if _file_digest(path).hex() != digest:
                return None
        return bytes.fromhex(body["ir_key"])
    except (_Unrecordable, OSError, KeyError, TypeError, ValueError):
        return None


# ------------------------------------------------------------------------------------ the entries

_RECORD_PREFIX = "res-"
_RECORD_SUFFIX = ".json"


def _entry_path(folder: str, key: bytes) -> str:
    return os.path.join(folder, f"{_PREFIX}{key.hex()[:40]}{_SUFFIX}")


def _record_path(folder: str, key: bytes) -> str:
    return os.path.join(folder, f"{_RECORD_PREFIX}{key.hex()[:40]}{_RECORD_SUFFIX}")


def _header(key: bytes, digest: bytes) -> bytes:
    return _MAGIC + _FORMAT.to_bytes(2, "little") + key + digest


def _read_own_file(path: str) -> Optional[bytes]:
    """The bytes of a regular file of this user's that others cannot write, else None."""
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            if _trust_problem(path, st) or not stat.S_ISREG(st.st_mode):
                return None
            return fh.read()
    except OSError:
        return None


def _write_atomically(folder: str, path: str, *chunks: bytes) -> bool:
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=_SUFFIX, dir=folder)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False
    return True


def read_entry(folder: str, key: bytes) -> "Optional[RuleSetIR]":
    """The rule set stored for ``key``, or None for a missing, truncated, garbled or foreign entry."""
    from .ir.ruleset import RuleSetIR

    path = _entry_path(folder, key)
    data = _read_own_file(path)
    if data is None:
        return None
    header = _header(key, b"\0" * _DIGEST)
    size = len(header)
    if len(data) <= size or data[: size - _DIGEST] != header[: size - _DIGEST]:
        return None
    payload = memoryview(data)[size:]
    if hashlib.blake2b(payload, digest_size=_DIGEST).digest() != data[size - _DIGEST : size]:
        return None
    collecting = gc.isenabled()
    gc.disable()  # a million small objects: the collector's passes would add a third to the load
    try:
        ir = pickle.loads(payload)
    except Exception:  # noqa: BLE001 - a digest-checked payload that still fails: treat as missing
        return None
    finally:
        if collecting:
            gc.enable()
    if type(ir) is not RuleSetIR:
        return None
    try:
        os.utime(path)  # most recently used: kept when the folder is trimmed
    except OSError:
        pass
    return ir


def write_entry(folder: str, key: bytes, ir: "RuleSetIR") -> bool:
    """Store ``ir`` under ``key`` atomically; False when it could not be written (nothing is left behind)."""
    try:
        payload = pickle.dumps(ir, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - an IR that does not pickle is simply not cached
        return False
    digest = hashlib.blake2b(payload, digest_size=_DIGEST).digest()
    written = _write_atomically(folder, _entry_path(folder, key), _header(key, digest), payload)
    trim(folder)
    return written


def _read_record(folder: str, key: bytes) -> Optional[Dict[str, Any]]:
    data = _read_own_file(_record_path(folder, key))
    if data is None:
        return None
    digest, _, body = data.partition(b"\n")
    if hashlib.blake2b(body, digest_size=_DIGEST).hexdigest().encode() != digest:
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return None
    if not isinstance(value, dict) or value.get("key") != key.hex():
        return None
    return value


def _write_record(folder: str, key: bytes, body: _RecordBody) -> bool:
    text = json.dumps({**body, "key": key.hex()}, ensure_ascii=False, sort_keys=True).encode("utf-8", "surrogateescape")
    digest = hashlib.blake2b(text, digest_size=_DIGEST).hexdigest().encode()
    return _write_atomically(folder, _record_path(folder, key), digest, b"\n", text)


def entries(folder: str, records: bool = False) -> List[Tuple[float, int, str]]:
    """(last used, size, path) of every rule set entry in the folder (or every resolution record),
    most recently used first."""
    prefix, suffix = (_RECORD_PREFIX, _RECORD_SUFFIX) if records else (_PREFIX, _SUFFIX)
    out = []
    try:
        with os.scandir(folder) as it:
            for e in it:
                if e.name.startswith(prefix) and e.name.endswith(suffix):
                    try:
                        st = e.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    out.append((st.st_mtime, st.st_size, e.path))
    except OSError:
        return []
    out.sort(reverse=True)
    return out


def trim(folder: str, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
    """Remove the least recently used entries beyond the bounds (records: four per entry), and
    temporary files that a process killed while writing left behind (an hour old: a writer that is
    still running is never that slow)."""
    doomed = []
    total = 0
    for i, (_, size, path) in enumerate(entries(folder)):
        total += size
        if i >= max_entries or total > max_bytes:
            doomed.append(path)
    doomed.extend(path for _, _, path in entries(folder, records=True)[4 * max_entries :])
    try:
        with os.scandir(folder) as it:
            doomed.extend(
                e.path for e in it if e.name.startswith(".tmp-") and e.stat(follow_symlinks=False).st_mtime < time.time() - 3600
            )
    except OSError:
        pass
    for path in doomed:
        try:
            os.unlink(path)
        except OSError:
            pass


def clear(folder: Optional[str] = None) -> int:
    """Remove every entry and record (of ``folder``, else the configured folder); how many files were removed."""
    if folder is None:
        folder = cache_folder().path
        if folder is None:
            return 0
    removed = 0
    for _, _, path in entries(folder) + entries(folder, records=True):
        try:
            os.unlink(path)
            removed += 1
        except OSError:
            pass
    return removed


# ----------------------------------------------------------------------------------- the entry point


def load_ir_cached(specs: Sequence[str], enabled: bool = True) -> "RuleSetIR":
    """``compiler.load_ir(specs)``, from the cache where an entry matches; errors are the compiler's.

    A load that fails is never cached (the compiler reports it every time), and an entry is stored
    only if the sources still have the key they had before compiling (a file edited meanwhile would
    otherwise store new rules under the old bytes' key).
    """
    from .compiler import load_ir

    specs = [str(s) for s in specs]
    if not enabled or disabled_by_environment():
        return load_ir(specs)
    folder = cache_folder(create=True)
    if folder.path is None:
        if folder.untrusted:
            warnings.warn(f"safetyrules: {folder.reason}", RuntimeWarning, stacklevel=3)
        return load_ir(specs)
    fingerprint = code_fingerprint()
    record_key = _record_key(specs, fingerprint)
    record = _read_record(folder.path, record_key)
    if record is not None:
        key = _record_holds(specs, record)
        if key is not None:
            ir = read_entry(folder.path, key)
            if ir is not None:
                return ir
    pairs = _resolved(specs)
    key = request_key(specs, fingerprint, pairs) if pairs is not None else None
    ir = read_entry(folder.path, key) if key is not None else None
    compiled = ir is None
    if ir is None:
        ir = load_ir(specs)
    if key is None or pairs is None:  # pairs is None only when key is
        return ir
    body = _record_body(specs, pairs, key)
    # Store nothing if a source changed while this ran: the entry (or the record, whose digests were
    # taken after the key's) would pair one version's key with another version's rules.
    if request_key(specs, fingerprint) != key:
        return ir
    if compiled and not write_entry(folder.path, key, ir):
        return ir
    if body is not None:
        _write_record(folder.path, record_key, body)
    return ir
