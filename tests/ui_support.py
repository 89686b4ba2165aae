"""Helpers for the page and docs tests: Debian's Chromium through Playwright, and closed-network checks."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Playwright never downloads a browser here: it drives the system's Chromium, told to call nobody.
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_HOSTS = {"127.0.0.1"}
LOCAL_SCHEMES = {"data", "blob", "about"}


def chromium_or_skip() -> Path:
    if not CHROMIUM.is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium with apt-get as root, "
                    "which was not possible on this machine")
    return CHROMIUM


@dataclass
class NetworkLog:
    """Every request a page made; requests to anywhere but 127.0.0.1 are recorded, then refused (closed network)."""

    urls: list[str] = field(default_factory=list)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def outside(self) -> list[str]:
        return [url for url in self.urls if not is_local(url)]


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or parts.hostname in LOCAL_HOSTS


def watch_network(context: Any) -> NetworkLog:
    """Record every request of ``context``'s pages and abort those that leave 127.0.0.1."""
    log = NetworkLog()

    def on_request(request: Any) -> None:
        log.urls.append(request.url)
        log.headers[request.url] = dict(request.headers)

    def only_local(route: Any) -> None:
        if is_local(route.request.url):
            route.continue_()
        else:
            route.abort("internetdisconnected")

    context.on("request", on_request)
    context.route("**/*", only_local)
    return log


def edited_bundle(source: Path, target: Path, **fields: Any) -> Path:
    """A copy of ``source`` whose manifest says something else (task, demo): the model files are untouched."""
    shutil.copytree(source, target)
    manifest_path = target / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest.update(fields)
    manifest_path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return target


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
