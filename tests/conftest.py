"""Shared fixtures: a tiny XLM-RoBERTa bundle built through the real train + export path, and
real servers started with ``clinx serve`` on free ports of 127.0.0.1."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import ServerProcess, build_tiny_bundle

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny XLM-R tagger (problem/test/treatment) trained for a few steps and exported: seconds."""
    return build_tiny_bundle(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="session")
def slow_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model-bound bundle (XLM-R ``small`` shape, fp32, untrained) for tests of the queue's policies."""
    from tests.support import build_slow_bundle

    return build_slow_bundle(tmp_path_factory.mktemp("slow"))


@pytest.fixture()
def bundle_copy(tiny_bundle: Path, tmp_path: Path) -> Path:
    """A private copy a test may break."""
    target = tmp_path / "bundle"
    shutil.copytree(tiny_bundle, target)
    return target


@pytest.fixture(scope="session")
def tiny_server(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One shared server on the tiny bundle for tests that don't change settings."""
    log_dir = tmp_path_factory.mktemp("server-logs")
    with ServerProcess.start(tiny_bundle, log_dir) as server:
        yield server


@pytest.fixture(scope="session")
def mtsamples() -> list[dict[str, str]]:
    import json

    path = DATA / "mtsamples" / "notes.jsonl"
    if not path.is_file():
        pytest.skip(f"MTSamples notes not found at {path} (../shared/data is absent on this machine)")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def ncbi_dir() -> Path:
    path = DATA / "ncbi-disease" / "standoff"
    if not path.is_dir():
        pytest.skip(f"NCBI disease corpus not found at {path} (../shared/data is absent on this machine)")
    return path


os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def fp32_server(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path]]:
    """fp32 is batch-invariant (int8's dynamic activation scales depend on the batch)."""
    with ServerProcess.start(tiny_bundle, tmp_path_factory.mktemp("fp32-logs"), variant="fp32",
                             max_queue_delay_ms=20) as server:
        yield server, tiny_bundle
