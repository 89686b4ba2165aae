"""Shared fixtures: a tiny XLM-RoBERTa bundle built through the real train + export path, and
real servers started with ``clinx serve`` on free ports of 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import ServerProcess, build_tiny_bundle, java_available

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny XLM-R tagger (problem/test/treatment) trained for a few steps and exported: seconds."""
    return build_tiny_bundle(tmp_path_factory.mktemp("tiny"))


# The tiny concept tagger's checkpoint exported as a PHI tagger: its labels named as PHI categories
# (clinx export --task-type deid --phi-category ...). Its spans are plentiful and deterministic, which
# is what tests of the replacing need; what a real PHI model finds is measured in benchmarks/deid.py.
TINY_PHI_CATEGORIES = {"problem": "NAME/PATIENT", "test": "LOCATION/HOSPITAL", "treatment": "ID/IDNUM"}


@pytest.fixture(scope="session")
def tiny_deid_bundle(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A de-identification bundle (task_type deid) exported from the tiny tagger's checkpoint: seconds."""
    from model_export.export import ExportConfig, export_bundle

    output = tmp_path_factory.mktemp("tiny-deid") / "bundle"
    export_bundle(ExportConfig(checkpoint=tiny_bundle.parent / "checkpoint", output_dir=output, name="tiny-deid",
                               version="0.0.1", task="de-identification", task_type="deid",
                               phi_categories=TINY_PHI_CATEGORIES, fp16=False))
    return output


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
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One embedded Spark (local[2]) for every bulk test: the JVM starts once per test run."""
    if not java_available():
        pytest.skip("Java is not installed (Spark needs Java 17: apt-get install openjdk-17-jre-headless)")
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # Python workers run this interpreter (and its venv)
    session = (SparkSession.builder.master("local[2]").appName("clinx-tests")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.local.dir", str(tmp_path_factory.mktemp("spark-local")))
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def fp32_server(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path]]:
    """fp32 is batch-invariant (int8's dynamic activation scales depend on the batch)."""
    with ServerProcess.start(tiny_bundle, tmp_path_factory.mktemp("fp32-logs"), variant="fp32",
                             max_queue_delay_ms=20) as server:
        yield server, tiny_bundle
