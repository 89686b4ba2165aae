"""The architecture as imports: the server never reaches into training or benchmarks, the scheduler is pure."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside functions (lazy imports count too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def offenders(folder: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    found = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        bad = sorted(name for name in imported_modules(path) if name.split(".")[0] in forbidden
                     or any(name == f or name.startswith(f + ".") for f in forbidden))
        if bad:
            found[str(path.relative_to(ROOT))] = bad
    return found


def test_the_server_package_imports_nothing_from_training_or_benchmarks() -> None:
    assert offenders("app", ("model_export", "benchmarks", "clinx_cli", "clinx_bulk", "torch", "transformers",
                             "pyspark")) == {}


def test_bulk_runs_the_engine_without_training_or_the_http_layer() -> None:
    """Executors install the engine and pyspark only: no torch, no FastAPI, no training code."""
    assert offenders("clinx_bulk", ("model_export", "benchmarks", "torch", "transformers", "fastapi", "uvicorn",
                                    "app.api", "app.main", "app.server", "app.state")) == {}


def test_text_processing_imports_no_engine_server_or_runtime() -> None:
    assert offenders("app/text", ("app.engine", "app.api", "fastapi", "onnxruntime", "app.state")) == {}


def test_the_scheduler_is_pure_policy() -> None:
    imports = imported_modules(ROOT / "app/engine/scheduler.py")
    assert not {name for name in imports if name.split(".")[0] in ("numpy", "onnxruntime", "app")}, imports


def test_the_executor_does_no_decoding() -> None:
    imports = imported_modules(ROOT / "app/engine/executor.py")
    assert not {name for name in imports if name.startswith(("app.text", "app.engine.stages"))}, imports


def test_the_api_layer_reaches_the_engine_only_through_its_public_units() -> None:
    """Routes translate HTTP: they call the Extractor, never the batcher's or runtime's internals directly."""
    allowed = {"app.engine.extractor", "app.engine.pipeline", "app.engine.stages", "app.engine.batcher"}
    found = {name for path in (ROOT / "app/api").glob("*.py") for name in imported_modules(path)
             if name.startswith("app.engine")}
    assert found <= allowed, found - allowed


def test_training_reaches_bundles_through_the_engine() -> None:
    """model_export may use the engine (one path for everyone) but never the HTTP layer."""
    assert offenders("model_export", ("app.api", "app.main", "app.server", "app.state", "fastapi", "uvicorn")) == {}


def test_de_identification_is_pure() -> None:
    """app/deid: text in, text out; no engine, HTTP, runtime or server state."""
    assert offenders("app/deid", ("app.engine", "app.api", "app.state", "app.main", "fastapi", "onnxruntime",
                                  "numpy")) == {}
