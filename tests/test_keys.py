"""The keys file and ``clinx keys``: names and hashes at rest, never a key; edits that a server can re-read."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.clients import ClientKeys, ClientRegistry
from app.keys import KeysFileError, add_key, env_clients, hash_key, migrate, parse_keys, read_keys, revoke, rotate

ROOT = Path(__file__).resolve().parents[1]


def clinx_keys(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "clinx_cli", "keys", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})}, timeout=60)


def test_add_prints_the_key_once_and_stores_only_its_hash(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    added = clinx_keys("add", "ehr-interface", "--file", str(keys))
    assert added.returncode == 0, added.stderr
    key = added.stdout.strip()
    assert len(key) > 40 and "\n" not in key
    text = keys.read_text()
    assert key not in text and f"ehr-interface:{hashlib.sha256(key.encode()).hexdigest()}" in text
    assert key not in added.stderr
    assert oct(keys.stat().st_mode & 0o777) == "0o600"
    assert [entry.name for entry in read_keys(keys)] == ["ehr-interface"]
    again = clinx_keys("add", "ehr-interface", "--file", str(keys))
    assert again.returncode == 1 and "already has a key" in again.stderr
    second = clinx_keys("add", "ehr-interface", "--another", "--file", str(keys))
    assert second.returncode == 0 and second.stdout.strip() != key
    listed = clinx_keys("list", env={"CLINX_API_KEYS_FILE": str(keys)})  # --file from the environment
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == ["ehr-interface"] * 2


def test_rotate_and_revoke_keep_comments_and_other_clients(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text("# our clients\n\n")
    research = add_key(keys, "research")
    ehr = add_key(keys, "ehr")
    old = read_keys(keys)
    new_ehr = rotate(keys, "ehr")
    entries = {entry.name: entry.digest for entry in read_keys(keys)}
    assert entries == {"research": hash_key(research), "ehr": hash_key(new_ehr)} and new_ehr != ehr
    assert keys.read_text().startswith("# our clients\n\n")
    assert revoke(keys, "research") == 1
    assert [entry.name for entry in read_keys(keys)] == ["ehr"]
    with pytest.raises(KeysFileError, match="no key of client 'research'"):
        revoke(keys, "research")
    add_key(keys, "ehr", another=True)
    fingerprint = read_keys(keys)[0].fingerprint
    assert revoke(keys, "ehr", fingerprint) == 1
    assert [entry.fingerprint for entry in read_keys(keys)] != [fingerprint]
    assert old != read_keys(keys)
    revoked = clinx_keys("revoke", "ehr", "--file", str(keys))
    assert revoked.returncode == 0 and read_keys(keys) == []


def test_names_are_checked_and_reserved_ones_refused(tmp_path: Path) -> None:
    for name in ("", "a b", "-x", "x" * 64, "anonymous", "unknown", "env-1", "a:b"):
        with pytest.raises(KeysFileError):
            add_key(tmp_path / "keys", name)
    assert not (tmp_path / "keys").exists()


def test_a_file_of_plain_keys_is_refused_naming_the_line_never_quoting_it(tmp_path: Path) -> None:
    secret = "plain-secret-key-42"
    with pytest.raises(KeysFileError) as caught:
        parse_keys(f"# comment\nehr:{hash_key('k')}\n{secret}\n", "keys.txt")
    assert "keys.txt line 3" in str(caught.value) and "clinx keys migrate" in str(caught.value)
    assert secret not in str(caught.value)
    with pytest.raises(KeysFileError, match="line 2: the same key as line 1"):
        parse_keys(f"a:{hash_key('k')}\nb:{hash_key('k')}\n", "keys.txt")
    with pytest.raises(KeysFileError, match="line 1"):
        parse_keys(f"a:{hash_key('k').upper()}\n", "keys.txt")


def test_migrate_hashes_plain_keys_in_place_and_they_keep_working(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text(f"# old file\nfirst-plain-key\nclient-1:{hash_key('already')}\n  second-plain-key  \n")
    migrated = clinx_keys("migrate", "--file", str(keys))
    assert migrated.returncode == 0, migrated.stderr
    text = keys.read_text()
    assert "plain-key" not in text and text.startswith("# old file\n")
    registry = ClientRegistry(keys_file=keys)
    assert registry.keys.identify("first-plain-key") == "client-2"  # client-1 was taken
    assert registry.keys.identify("second-plain-key") == "client-3"
    assert registry.keys.identify("already") == "client-1"
    assert migrate(keys) == []  # nothing left to hash


def test_env_keys_are_clients_env_n_and_auth_stays_on_with_an_empty_file(tmp_path: Path) -> None:
    assert [entry.name for entry in env_clients(" a, b ,,c")] == ["env-1", "env-2", "env-3"]
    registry = ClientRegistry("a,b")
    assert registry.keys.identify("b") == "env-2" and registry.keys.identify("z") is None
    assert not ClientRegistry().keys.required and ClientRegistry().keys.names == ["anonymous"]
    empty = tmp_path / "keys"
    empty.write_text("# every client revoked\n")
    assert ClientRegistry(keys_file=empty).keys == ClientKeys(required=True)  # nobody gets in, not everybody


def test_a_changed_file_is_reloaded_and_a_broken_one_keeps_the_clients_in_force(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    first = add_key(keys, "ehr")
    registry = ClientRegistry(keys_file=keys)
    assert not registry.check()  # unchanged: no reload
    second = add_key(keys, "research")
    assert registry.check() and registry.keys.identify(second) == "research"
    keys.write_text(keys.read_text() + "a-plain-key\n")
    assert not registry.check()
    assert registry.keys.identify(first) == "ehr" and registry.reloads == {"ok": 1, "error": 1}
    assert not registry.check()  # a broken file is reported once, not at every poll
    keys.write_text(f"research:{hash_key(second)}\n")
    assert registry.check() and registry.keys.identify(first) is None
    with pytest.raises(KeysFileError, match="cannot read"):
        ClientRegistry(keys_file=tmp_path / "missing")
