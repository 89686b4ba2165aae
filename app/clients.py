"""Who is calling: the server's named clients, re-read from the keys file while it serves.

The clients in force are one immutable snapshot (:class:`ClientKeys`), replaced whole when the keys
file changes (polled every ``CLINX_KEYS_RELOAD_S``: its inode, size or modification time) or on
SIGHUP. A request is authenticated against the snapshot of its moment and keeps its client name to
the end: a revocation refuses the next request, never one in flight. A file that cannot be read or
parsed while serving leaves the previous snapshot in force and is logged as an error (at start-up it
stops the server).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from app.keys import ANONYMOUS, ClientKey, KeysFileError, env_clients, read_keys

log = logging.getLogger("clinx.clients")


@dataclass(frozen=True)
class ClientKeys:
    """The keys in force: sha256 digests and their client names."""

    required: bool  # False: no keys configured, every request is `anonymous`
    entries: tuple[tuple[bytes, str], ...] = ()

    @classmethod
    def of(cls, required: bool, clients: list[ClientKey]) -> ClientKeys:
        return cls(required, tuple((bytes.fromhex(entry.digest), entry.name) for entry in clients))

    @property
    def names(self) -> list[str]:
        return sorted({name for _, name in self.entries}) if self.required else [ANONYMOUS]

    def identify(self, offered: str) -> str | None:
        """The client whose key hashes like ``offered``; None for none. Every entry is compared, each in
        constant time: neither the answer's timing nor its path depends on where a match is."""
        digest = hashlib.sha256(offered.encode("utf-8", "surrogateescape")).digest()
        found: str | None = None
        for stored, name in self.entries:
            if hmac.compare_digest(digest, stored) and found is None:
                found = name
        return found


def _signature(path: Path) -> tuple[int, int, int, int] | None:
    """What tells a changed file: a new inode (an atomic replace, a Kubernetes Secret update), size, mtime."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns


class ClientRegistry:
    """The clients from ``CLINX_API_KEYS`` (plain, development) and ``CLINX_API_KEYS_FILE`` (hashed)."""

    def __init__(self, api_keys: str = "", keys_file: Path | None = None, reload_s: float = 2.0) -> None:
        self._env = env_clients(api_keys)
        self.keys_file = keys_file
        self.reload_s = reload_s
        self._signature: tuple[int, int, int, int] | None = None
        self.keys = ClientKeys.of(bool(self._env) or keys_file is not None, self._env)
        self.reloads = {"ok": 0, "error": 0}
        if keys_file is not None:
            self.keys = self._read()

    def _read(self) -> ClientKeys:
        """The env clients plus the file's; KeysFileError when the file is unusable."""
        assert self.keys_file is not None
        signature = _signature(self.keys_file)
        clients = read_keys(self.keys_file)
        self._signature = signature
        return ClientKeys.of(True, self._env + clients)

    def reload(self, why: str) -> bool:
        """Re-read the file; on failure keep the clients in force. True when the new file took effect."""
        if self.keys_file is None:
            return False
        before = set(self.keys.names)
        try:
            self.keys = self._read()
        except KeysFileError as error:
            self.reloads["error"] += 1
            self._signature = _signature(self.keys_file)  # report a broken file once, not every poll
            log.error("keys file not reloaded (%s), the previous clients stay in force: %s", why, error)
            return False
        self.reloads["ok"] += 1
        after = set(self.keys.names)
        log.info("keys file reloaded (%s): %d clients, %d keys", why, len(after), len(self.keys.entries),
                 extra={"added": sorted(after - before), "removed": sorted(before - after)})
        return True

    def check(self) -> bool:
        """Reload when the file changed since it was last read (cheap: one stat)."""
        if self.keys_file is None or _signature(self.keys_file) == self._signature:
            return False
        return self.reload("file changed")

    async def watch(self) -> None:
        while True:
            await asyncio.sleep(self.reload_s)
            self.check()

    @contextlib.asynccontextmanager
    async def reloading(self) -> AsyncIterator[None]:
        """While the server runs: poll the file, and reload on SIGHUP (where signals can be handled)."""
        if self.keys_file is None:
            yield
            return
        loop = asyncio.get_running_loop()
        watcher = asyncio.create_task(self.watch(), name="clinx-keys-watch")
        hangup = False
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError, AttributeError):
            loop.add_signal_handler(signal.SIGHUP, self.reload, "SIGHUP")
            hangup = True
        try:
            yield
        finally:
            watcher.cancel()
            if hangup:
                loop.remove_signal_handler(signal.SIGHUP)
