"""The keys file: named clients, one ``name:sha256`` line per key. A key itself is never stored.

    # clinx-serve clients: clinx keys add NAME --file F
    ehr-interface:5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8
    research:a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3

The server hashes the key a request offers and compares the hash with every line's. A client may
have several lines (several keys: a rotation with overlap); blank lines and ``#`` comments are kept
as they are by the edits below. Every edit rewrites the file atomically (a new file renamed over the
old one), so a server that re-reads it never sees half an edit.

Files written before named clients held plain keys, one per line. The server refuses such a file
(naming the line, never quoting it); ``clinx keys migrate`` hashes its plain keys in place, each
becoming a client ``client-1``, ``client-2``, ... that keeps working with the same key.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
LINE = re.compile(r"^(?P<name>[^:\s]+):(?P<digest>[0-9a-f]{64})$")
ANONYMOUS = "anonymous"  # no keys configured
UNKNOWN = "unknown"  # keys configured, the request did not present a valid one
ENV_PREFIX = "env-"  # plain keys from CLINX_API_KEYS: env-1, env-2, ...
HEADER = "# clinx-serve clients, one `name:sha256-of-key` per line (clinx keys add NAME --file FILE)\n"


class KeysFileError(ValueError):
    """The keys file is unusable; the message names the file and line, never a line's content."""


@dataclass(frozen=True)
class ClientKey:
    name: str
    digest: str  # sha256 of the key, lower-case hex

    @property
    def fingerprint(self) -> str:
        """Enough of the hash to tell a client's keys apart (``clinx keys list``, ``revoke --fingerprint``)."""
        return self.digest[:12]

    def line(self) -> str:
        return f"{self.name}:{self.digest}"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


def new_key() -> str:
    """256 random bits, URL-safe (fits a header as it is)."""
    return "clx_" + secrets.token_urlsafe(32)


def check_name(name: str, source: str = "client name") -> None:
    if not NAME.match(name):
        raise KeysFileError(f"{source}: a client name is 1-63 letters, digits or ._- (starting with a letter or "
                            "digit)")
    if name in (ANONYMOUS, UNKNOWN) or name.startswith(ENV_PREFIX):
        raise KeysFileError(f"{source}: {name!r} is reserved ({ANONYMOUS}, {UNKNOWN} and {ENV_PREFIX}N name "
                            "requests without a key, with an invalid key, and CLINX_API_KEYS keys)")


def parse_line(line: str) -> ClientKey | None:
    """The entry on one line; None for a blank line or a comment; KeysFileError (without the line) otherwise."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    match = LINE.match(text)
    if match is None:
        raise KeysFileError("is not `name:sha256` (64 lower-case hex digits); a plain key? Keys are no longer "
                            "kept in the clear: hash them once with `clinx keys migrate --file FILE` "
                            "(see docs/api.md, Clients and keys)")
    check_name(match["name"], "the name")
    return ClientKey(match["name"], match["digest"])


def parse_keys(text: str, source: str) -> list[ClientKey]:
    """Every entry of a keys file's text; KeysFileError naming ``source`` and the line number."""
    entries: list[ClientKey] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            entry = parse_line(line)
        except KeysFileError as error:
            raise KeysFileError(f"{source} line {number}: {error}") from None
        if entry is None:
            continue
        if entry.digest in seen:
            raise KeysFileError(f"{source} line {number}: the same key as line {seen[entry.digest]} (a key names "
                                "one client)")
        seen[entry.digest] = number
        entries.append(entry)
    return entries


def read_keys(path: Path) -> list[ClientKey]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise KeysFileError(f"{path}: cannot read the keys file ({type(error).__name__})") from None
    return parse_keys(text, str(path))


def env_clients(api_keys: str) -> list[ClientKey]:
    """Plain keys from ``CLINX_API_KEYS`` (development): clients ``env-1``, ``env-2``, ... in order."""
    keys = [key.strip() for key in api_keys.split(",") if key.strip()]
    return [ClientKey(f"{ENV_PREFIX}{index}", hash_key(key)) for index, key in enumerate(keys, start=1)]


# --- edits (the `clinx keys` command) ---------------------------------------------------------------------


def _rewrite(path: Path, keep: Callable[[ClientKey], bool], append: Iterable[ClientKey] = ()) -> int:
    """Keep comments and the entries ``keep`` accepts, add ``append``; atomically. Returns entries removed."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True) if path.exists() else [HEADER]
    parse_keys("".join(lines), str(path))  # never edit a file the server would refuse
    kept = [line for line in lines if (entry := parse_line(line)) is None or keep(entry)]
    removed = len(lines) - len(kept)
    if kept and not kept[-1].endswith("\n"):
        kept[-1] += "\n"
    kept += [entry.line() + "\n" for entry in append]
    parse_keys("".join(kept), str(path))
    _write_atomically(path, "".join(kept))
    return removed


def _write_atomically(path: Path, text: str) -> None:
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def add_key(path: Path, name: str, *, another: bool = False) -> str:
    """A new key for client ``name``, its hash appended; the key is returned (shown once, stored nowhere).

    A name that already has a key needs ``another`` (a second key for the same client, e.g. before a rotation).
    """
    check_name(name)
    existing = read_keys(path) if path.exists() else []
    if any(entry.name == name for entry in existing) and not another:
        raise KeysFileError(f"{path}: client {name!r} already has a key; `clinx keys rotate` replaces it, "
                            "`--another` adds a second one")
    key = new_key()
    _rewrite(path, lambda entry: True, [ClientKey(name, hash_key(key))])
    return key


def revoke(path: Path, name: str, fingerprint: str | None = None) -> int:
    """Remove client ``name``'s keys (only the one whose hash starts with ``fingerprint``, when given)."""
    if not path.exists():
        raise KeysFileError(f"{path}: no such keys file")

    def revoked(entry: ClientKey) -> bool:
        return entry.name == name and (fingerprint is None or entry.digest.startswith(fingerprint.lower()))

    removed = _rewrite(path, lambda entry: not revoked(entry))
    if not removed:
        raise KeysFileError(f"{path}: no key of client {name!r}" + (f" with fingerprint {fingerprint}"
                                                                      if fingerprint else ""))
    return removed


def rotate(path: Path, name: str) -> str:
    """A new key for ``name`` replacing all of its keys, in one write; the new key is returned."""
    check_name(name)
    if not any(entry.name == name for entry in (read_keys(path) if path.exists() else [])):
        raise KeysFileError(f"{path}: no client {name!r} to rotate (`clinx keys add` creates one)")
    key = new_key()
    _rewrite(path, lambda entry: entry.name != name, [ClientKey(name, hash_key(key))])
    return key


def migrate(path: Path, prefix: str = "client") -> list[str]:
    """Hash a pre-clients file's plain keys in place: each plain line becomes ``PREFIX-N:sha256``.

    Entries already hashed and comments stay; returns the names given, in file order.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    taken = {entry.name for line in lines if (entry := _parsed_or_none(line)) is not None}
    names: list[str] = []
    out: list[str] = []
    number = 0
    for line in lines:
        text = line.strip()
        if not text or text.startswith("#") or _parsed_or_none(line) is not None:
            out.append(line)
            continue
        number += 1
        while f"{prefix}-{number}" in taken:
            number += 1
        name = f"{prefix}-{number}"
        check_name(name)
        names.append(name)
        out.append(ClientKey(name, hash_key(text)).line())
    parse_keys("\n".join(out), str(path))
    _write_atomically(path, "\n".join(out) + "\n")
    return names


def _parsed_or_none(line: str) -> ClientKey | None:
    try:
        return parse_line(line)
    except KeysFileError:
        return None
