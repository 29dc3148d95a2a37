"""The compiled-rules cache: a hit gives the rule set a fresh compilation gives, and nothing stale,
corrupt or foreign is ever used."""

import os
import shutil
import stat

import pytest

from safetyrules import cache, compiler, load_rules
from safetyrules.cache import load_ir_cached
from safetyrules.errors import LoadError

from .conftest import RULES


@pytest.fixture
def folder(tmp_path, monkeypatch):
    path = tmp_path / "cache"
    monkeypatch.setenv("SAFETYRULES_CACHE_DIR", str(path))
    monkeypatch.delenv("SAFETYRULES_NO_CACHE", raising=False)
    return path


@pytest.fixture
def pack(tmp_path):
    """A copy of the demo pack that the tests may edit."""
    target = tmp_path / "demo"
    shutil.copytree(os.path.join(RULES, "demo"), target)
    return target


@pytest.fixture
def compilations(monkeypatch):
    """How many times the compiler itself ran."""
    calls = []
    real = compiler.load_ir

    def counting(specs):
        calls.append(list(specs))
        return real(specs)

    monkeypatch.setattr(compiler, "load_ir", counting)
    return calls


def _entries(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("ir-"))


def test_a_second_load_comes_from_the_cache_and_equals_a_fresh_compilation(folder, pack, compilations):
    first = load_ir_cached([str(pack)])
    assert len(compilations) == 1 and len(_entries(folder)) == 1
    second = load_ir_cached([str(pack)])
    assert len(compilations) == 1  # served from the entry
    assert second is not first
    assert second == first == compiler.load_ir([str(pack)])


def test_a_cached_load_by_pack_name_gives_the_same_reports(folder, compilations):
    import json

    from .conftest import EXAMPLES

    with open(os.path.join(EXAMPLES, "demo-underground.json"), encoding="utf-8") as fh:
        record = json.load(fh)
    fresh = load_rules("demo", cache=False)
    warm = [load_rules("demo") for _ in range(3)]
    assert len(compilations) == 2  # cache=False, then the first cached load; the others hit
    assert all(r.ir == fresh.ir for r in warm)
    assert all(r.evaluate(record).to_json() == fresh.evaluate(record).to_json() for r in warm)


@pytest.mark.parametrize("damage", ["truncate", "garble", "empty", "other-key"])
def test_a_damaged_entry_is_recompiled_and_replaced(folder, pack, compilations, damage):
    good = load_ir_cached([str(pack)])
    (entry,) = _entries(folder)
    path = folder / entry
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garble":
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes(b ^ 0xFF for b in data[middle : middle + 64]) + data[middle + 64 :])
    elif damage == "empty":
        path.write_bytes(b"")
    else:  # a well-formed entry of another request under this request's name
        other = load_ir_cached([os.path.join(RULES, "city-gas")])
        other_entry = [e for e in _entries(folder) if e != entry][0]
        path.write_bytes((folder / other_entry).read_bytes())
        assert other != good
    before = len(compilations)
    again = load_ir_cached([str(pack)])
    assert again == good
    assert len(compilations) == before + 1  # compiled, not read
    assert load_ir_cached([str(pack)]) == good
    assert len(compilations) == before + 1  # and the entry was replaced by a good one


def test_a_changed_module_is_compiled_again(folder, pack, compilations):
    before = load_ir_cached([str(pack)])
    module = pack / "demo-capacity-2020.yaml"
    text = module.read_text(encoding="utf-8")
    assert "capacity_ratio > 110%" in text
    module.write_text(
        text.replace("capacity_ratio > 110%", "capacity_ratio > 120%").replace("value: 110%", "value: 120%"), encoding="utf-8"
    )
    after = load_ir_cached([str(pack)])
    assert len(compilations) == 2
    assert after != before
    assert after == compiler.load_ir([str(pack)])
    module.write_text(text, encoding="utf-8")  # back to the first bytes: the first entry serves again
    assert load_ir_cached([str(pack)]) == before
    assert len(compilations) == 3  # (the fresh comparison above) and no more


def test_a_new_module_file_in_a_searched_folder_is_seen(folder, pack, compilations):
    before = load_ir_cached([str(pack)])
    load_ir_cached([str(pack)])
    assert len(compilations) == 1
    text = (pack / "demo-capacity-2026.yaml").read_text(encoding="utf-8")
    (pack / "sub").mkdir()
    shutil.copy(pack / "overlay-example.yaml", pack / "sub" / "ignored.txt")  # not a module pattern: no change
    assert load_ir_cached([str(pack)]) == before
    os.remove(pack / "overlay-example.yaml")
    after = load_ir_cached([str(pack)])
    assert after != before and after == compiler.load_ir([str(pack)])
    assert "overlay-example" not in {m.id for m in after.modules}
    assert text  # the other modules are untouched


def test_a_manifest_change_is_seen(folder, pack, compilations):
    before = load_ir_cached([str(pack)])
    manifest = pack / "pack.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("version: 0.1.0", "version: 0.2.0"), encoding="utf-8")
    after = load_ir_cached([str(pack)])
    assert [p.version for p in after.packs] == ["0.2.0"] and before.packs[0].version == "0.1.0"


def test_a_changed_library_fingerprint_misses(folder, pack, compilations, monkeypatch):
    load_ir_cached([str(pack)])
    load_ir_cached([str(pack)])
    assert len(compilations) == 1
    monkeypatch.setattr(cache, "code_fingerprint", lambda: b"\x01" * 32)
    load_ir_cached([str(pack)])
    assert len(compilations) == 2
    assert len(_entries(folder)) == 2


def test_a_garbled_resolution_record_is_ignored(folder, pack, compilations):
    good = load_ir_cached([str(pack)])
    (record,) = [p for p in folder.iterdir() if p.name.startswith("res-")]
    data = record.read_bytes()
    record.write_bytes(data.replace(b'"ir_key": "', b'"ir_key": "00', 1))
    assert load_ir_cached([str(pack)]) == good
    record.write_bytes(b"not a record")
    assert load_ir_cached([str(pack)]) == good
    assert len(compilations) == 1  # the entry itself was still good


def test_a_folder_named_like_the_pack_takes_its_place(folder, tmp_path, monkeypatch, compilations):
    monkeypatch.chdir(tmp_path)
    shipped = load_ir_cached(["demo"])
    assert load_ir_cached(["demo"]) == shipped and len(compilations) == 1
    shutil.copytree(os.path.join(RULES, "city-gas"), tmp_path / "demo")
    shadowed = load_ir_cached(["demo"])
    assert shadowed == compiler.load_ir(["demo"]) != shipped


def test_disabled_by_the_flag_and_by_the_environment(folder, pack, compilations, monkeypatch):
    load_rules(str(pack), cache=False)
    assert not folder.exists() or not any(folder.iterdir())
    monkeypatch.setenv("SAFETYRULES_NO_CACHE", "1")
    load_rules(str(pack))
    load_rules(str(pack))
    assert not folder.exists() or not any(folder.iterdir())
    assert len(compilations) == 3
    monkeypatch.setenv("SAFETYRULES_NO_CACHE", "0")
    load_rules(str(pack))
    assert len(_entries(folder)) == 1


def test_errors_are_never_cached(folder, pack, compilations):
    module = pack / "demo-capacity-2020.yaml"
    module.write_text(module.read_text(encoding="utf-8").replace("capacity_ratio > 110%", "no_such_fact > 1"), encoding="utf-8")
    for _ in range(2):
        with pytest.raises(LoadError) as err:
            load_ir_cached([str(pack)])
        assert "no_such_fact" in str(err.value)
    assert len(compilations) == 2
    assert not _entries(folder)


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_folder_others_can_write_is_refused(folder, pack, compilations):
    folder.mkdir()
    os.chmod(folder, 0o777)
    with pytest.warns(RuntimeWarning, match="writable by others"):
        ir = load_ir_cached([str(pack)])
    assert ir == compiler.load_ir([str(pack)])
    assert not any(folder.iterdir())


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_an_entry_others_can_write_is_not_read(folder, pack, compilations):
    load_ir_cached([str(pack)])
    (entry,) = _entries(folder)
    os.chmod(folder / entry, stat.S_IRUSR | stat.S_IWUSR | stat.S_IWOTH)
    load_ir_cached([str(pack)])
    assert len(compilations) == 2


def test_the_folder_keeps_the_newest_entries(tmp_path):
    path = tmp_path / "c"
    path.mkdir()
    for i in range(6):
        (path / f"ir-{i:040d}.pickle").write_bytes(b"x" * 100)
        os.utime(path / f"ir-{i:040d}.pickle", (1000 + i, 1000 + i))
    (path / ".tmp-old.pickle").write_bytes(b"half")
    os.utime(path / ".tmp-old.pickle", (1000, 1000))
    cache.trim(str(path), max_entries=4)
    assert sorted(p.name for p in path.iterdir()) == [f"ir-{i:040d}.pickle" for i in range(2, 6)]
    cache.trim(str(path), max_entries=10, max_bytes=250)
    assert sorted(p.name for p in path.iterdir()) == [f"ir-{i:040d}.pickle" for i in range(4, 6)]
    assert cache.clear(str(path)) == 2 and not any(path.iterdir())


def test_the_default_folder_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("SAFETYRULES_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_folder(create=True).path == str(tmp_path / "safetyrules")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert cache.default_folder() != os.path.join("relative/ignored", "safetyrules")
