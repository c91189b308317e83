"""The model registry: versions, aliases, rollback, atomic promotion under concurrency, name validation, and
tampered versions refused wherever they would be loaded."""

from __future__ import annotations

import json
import multiprocessing
import threading

import pytest

from conftest import assert_clean_error, run_cli
from digitrec.errors import DigitrecError, ModelError, UsageError
from digitrec.inference import Recognizer, resolve_model_dir
from digitrec.modeldir import BUNDLED, load_metadata
from digitrec.registry import Registry
from digitrec.registry.watch import AliasWatcher
from registry_helpers import broken_copy, model_copy


@pytest.fixture
def registry(tmp_path, monkeypatch) -> Registry:
    monkeypatch.setenv("DIGITREC_REGISTRY", str(tmp_path / "registry"))
    return Registry()


@pytest.fixture
def versions(tmp_path, registry) -> list[str]:
    """Three registered versions, a < b < c."""
    names = ["v-a", "v-b", "v-c"]
    for name in names:
        registry.register(model_copy(tmp_path / name, name))
    return names


def test_register_copies_and_verifies(tmp_path, registry):
    source = model_copy(tmp_path / "m", "2026.1")
    version, added = registry.register(source)
    assert added and version.name == "2026.1" and version.path == registry.root / "versions" / "2026.1"
    assert load_metadata(version.path).files == load_metadata(source).files
    assert version.source["path"] == str(source) and version.registered
    assert (registry.register(source)[1]) is False  # the same model again: a no-op
    assert not any((registry.root / ".staging").iterdir())  # nothing half-made left behind


def test_a_version_names_exactly_one_model(tmp_path, registry):
    registry.register(model_copy(tmp_path / "a", "same"))
    other = model_copy(tmp_path / "b", "same", source=broken_copy(tmp_path / "x", "x"))
    with pytest.raises(UsageError, match="already registered with different files"):
        registry.register(other)


def test_promote_rollback_history(registry, versions):
    a, b, c = versions
    for name in versions:
        registry.promote(name)
    assert registry.alias("production").version == c and registry.alias("production").stack == [a, b]
    assert registry.rollback().version == b
    assert registry.rollback().version == a
    with pytest.raises(UsageError, match="no earlier version"):
        registry.rollback()
    actions = [entry["action"] for entry in registry.alias("production").log]
    assert actions == ["promote"] * 3 + ["rollback"] * 2
    assert registry.resolve("production").name == a
    assert registry.promote(b, "staging").version == b  # any valid alias name
    assert {x.name for x in registry.aliases()} == {"production", "staging"}


def test_remove_refuses_a_version_in_use(registry, versions):
    a, b, c = versions
    registry.promote(a)
    registry.promote(b)
    with pytest.raises(UsageError, match="production"):
        registry.remove(b)
    registry.remove(a)  # only in production's rollback history: forgotten there too
    assert [v.name for v in registry.versions()] == [b, c]
    assert registry.alias("production").stack == []
    with pytest.raises(ModelError, match="no version"):
        registry.version(a)


@pytest.mark.parametrize("name", ["../evil", "..", ".hidden", "a/b", "/etc/passwd", "-rf", "a b", "x" * 129,
                                  ""])
def test_names_that_are_not_plain_file_names_are_refused(registry, versions, name):
    with pytest.raises(UsageError, match="invalid"):
        registry.version(name)
    with pytest.raises(UsageError, match="invalid"):
        registry.promote(versions[0], alias=name)
    with pytest.raises(UsageError, match="invalid"):
        registry.remove(name)
    assert not (registry.root.parent / "evil").exists()


def test_a_model_claiming_a_traversal_version_is_refused(tmp_path, registry):
    with pytest.raises(UsageError, match="invalid version name"):
        registry.register(model_copy(tmp_path / "m", "../../outside"))
    assert not (registry.root.parent / "outside").exists()


def test_tampered_version_is_refused_everywhere(registry, versions):
    a, b, _ = versions
    registry.promote(a)
    registry.promote(b)
    model = registry.root / "versions" / a / "model.onnx"
    model.write_bytes(model.read_bytes()[:-1] + b"\0")
    with pytest.raises(ModelError, match="checksum mismatch"):
        registry.version(a)
    with pytest.raises(ModelError, match="checksum mismatch"):
        registry.promote(a, "staging")
    with pytest.raises(ModelError, match="checksum mismatch"):
        registry.rollback()  # never back onto a damaged model
    assert registry.alias("production").version == b
    with pytest.raises(ModelError, match="checksum mismatch"):
        Recognizer(a)


def test_a_renamed_version_directory_is_refused(registry, versions):
    a, b, _ = versions
    (registry.root / "versions" / a).rename(registry.root / "versions" / "v-z")
    with pytest.raises(ModelError, match="names version 'v-a', not 'v-z'"):
        registry.version("v-z")


def test_model_references_resolve_through_the_registry(tmp_path, registry, versions):
    registry.promote(versions[1])
    assert resolve_model_dir("production") == registry.root / "versions" / versions[1]
    assert resolve_model_dir(versions[2]) == registry.root / "versions" / versions[2]
    assert resolve_model_dir(None) == BUNDLED
    assert Recognizer("production").info["version"] == versions[1]
    with pytest.raises(ModelError, match="no such model directory, and no alias or version 'nightly'"):
        resolve_model_dir("nightly")
    with pytest.raises(ModelError, match="no such model directory$"):
        resolve_model_dir(str(tmp_path / "missing"))


def _promote_each(root: str, names: list[str]) -> None:
    registry = Registry(root)
    for name in names:
        registry.promote(name)


def test_concurrent_promotions_lose_nothing_and_readers_never_see_half_an_alias(tmp_path, registry):
    """Two processes promote 15 versions each while this one reads the alias and loads its target: every read
    is a whole alias pointing at a whole, verified version, and all 30 promotions are in the log (the lock
    serialises read-modify-write; without it, concurrent updates would overwrite each other)."""
    names = [f"p-{i:02d}" for i in range(30)]
    for name in names:
        registry.register(model_copy(tmp_path / name, name))
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_promote_each, args=(str(registry.root), names[i::2])) for i in (0, 1)]
    for writer in writers:
        writer.start()
    reads = 0
    try:
        while any(w.is_alive() for w in writers):
            if registry.find_alias("production") is not None:
                assert registry.resolve("production").name in names
                reads += 1
    finally:
        for writer in writers:
            writer.join(timeout=60)
    assert [w.exitcode for w in writers] == [0, 0]
    log = registry.alias("production").log
    assert sorted(entry["version"] for entry in log) == names
    assert all(entry["from"] == previous["version"] for previous, entry in zip(log, log[1:]))
    assert reads > 0


def test_concurrent_registrations_of_one_model_add_it_once(tmp_path, registry):
    source = model_copy(tmp_path / "m", "twice")
    results = []
    threads = [threading.Thread(target=lambda: results.append(Registry(registry.root).register(source)[1]))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    assert [v.name for v in registry.versions()] == ["twice"]
    assert not any((registry.root / ".staging").iterdir())


def test_alias_watcher_swaps_verified_versions_and_refuses_broken_ones(tmp_path, registry, versions):
    a, b, c = versions
    registry.promote(a)
    taken = []

    def load(version):
        Recognizer(version.path)  # what the service does: onnxruntime must accept it
        taken.append(version.name)

    watcher = AliasWatcher(registry, "production", load, current=a)
    assert watcher.check() is False  # nothing new
    registry.promote(b)
    assert watcher.check() is True and taken == [b] and watcher.current == b
    registry.register(broken_copy(tmp_path / "broken", "broken"))
    registry.promote("broken")
    assert watcher.check() is False and watcher.current == b  # refused: b keeps serving
    assert watcher.check() is False and taken == [b]  # and not retried twice a second
    registry.promote(c)
    assert watcher.check() is True and watcher.current == c


def test_models_cli(tmp_path, registry):
    source = model_copy(tmp_path / "m", "cli-1")
    added = json.loads(run_cli("models", "register", str(source), "--alias", "staging", "--json",
                               check=True).stdout_text)
    assert added["added"] and added["version"] == "cli-1" and added["alias"]["version"] == "cli-1"
    model_copy(tmp_path / "m2", "cli-2")
    run_cli("models", "register", str(tmp_path / "m2"), check=True)
    listed = json.loads(run_cli("models", "list", "--json", check=True).stdout_text)
    assert [v["version"] for v in listed["versions"]] == ["cli-1", "cli-2"]
    assert listed["aliases"][0]["alias"] == "staging"
    table = run_cli("models", "list", check=True).stdout_text
    assert "cli-1" in table and "staging" in table
    promoted = run_cli("models", "promote", "cli-2", check=True).stdout_text
    assert "production: nothing → cli-2" in promoted
    run_cli("models", "promote", "cli-1", check=True)
    shown = json.loads(run_cli("models", "show", "production", "--json", check=True).stdout_text)
    assert shown["version"] == "cli-1" and shown["verified"]
    assert set(shown["aliases"]) == {"production", "staging"}
    assert "cli-1 → cli-2 (rolled back)" in run_cli("models", "rollback", check=True).stdout_text
    run_cli("models", "promote", "cli-2", "--alias", "staging", check=True)
    assert "removed cli-1" in run_cli("models", "remove", "cli-1", check=True).stdout_text


def test_models_cli_bad_input_is_one_clear_line(tmp_path, registry, versions):
    assert_clean_error(run_cli("models", "show", "../etc"), "invalid model reference name '../etc'")
    assert_clean_error(run_cli("models", "show", "nightly"), "no alias or version 'nightly'")
    assert_clean_error(run_cli("models", "promote", "v-404"), "no version 'v-404'")
    assert_clean_error(run_cli("models", "promote", versions[0], "--alias", "a/../b"), "invalid alias name")
    assert_clean_error(run_cli("models", "rollback", "production"), "no alias 'production'")
    assert_clean_error(run_cli("models", "register", str(tmp_path / "nothing")), "not a model directory")
    (tmp_path / "a-file").write_text("not a registry")
    assert_clean_error(run_cli("models", "list", "--registry", str(tmp_path / "a-file")), "not a registry folder")
    (registry.root / "versions" / versions[0] / "weights.safetensors").write_bytes(b"tampered")
    assert_clean_error(run_cli("models", "show", versions[0]), "checksum mismatch")
    assert_clean_error(run_cli("serve", "--model", versions[0]), "checksum mismatch")
    registry.promote(versions[1])
    assert_clean_error(run_cli("models", "remove", versions[1]), "production")
    with pytest.raises(DigitrecError):
        registry.remove("v-404")
