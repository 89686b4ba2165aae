"""benchmarks/server_process.py: the one helper that runs ``clinx serve`` for the tests, the soak and the benchmarks."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from benchmarks.server_process import CLI_MODULE, OLD_CLI_MODULE, ServerProcess, serve_command


def test_counts_answers_memory_and_stops_cleanly(tiny_bundle: Path, tmp_path: Path) -> None:
    with ServerProcess.start(tiny_bundle, tmp_path, log_name="served.log", log_level="info") as server:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for text in ("Chest pain, started aspirin.", "Denies fever."):
                assert client.post("/extract", json={"documents": [{"id": "a", "text": text}]}).status_code == 200
            assert client.post("/extract", json={"documents": "not a list"}).status_code == 422
        assert server.statuses() == {"200": 2, "422": 1}
        memory = server.memory()
        assert 0 < memory["VmRSS"] <= memory["VmHWM"]
        assert server.rss() > 0
    assert server.log_path == tmp_path / "served.log"
    assert server.process.returncode == 0, server.log()[-2000:]
    assert server.stop() == 0  # stopping twice is harmless
    assert server.log_records(), "the server's JSON log lines were not captured"
    assert server.error_lines() == {}


def test_a_server_that_fails_to_start_says_why(tmp_path: Path) -> None:
    missing = tmp_path / "no-bundle"
    server = ServerProcess.launch(missing, tmp_path)
    with pytest.raises(RuntimeError, match="server exited with 1") as raised, server.running(ready_timeout_s=120):
        pass
    assert "does not exist" in str(raised.value)
    assert sum(server.error_lines().values()) == 1
    assert server.process.poll() is not None


def test_settings_become_clinx_variables_and_foreign_ones_are_dropped(tiny_bundle: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLINX_MAX_BATCH_TOKENS", "1")  # a leftover of the caller's shell must not leak in
    server = ServerProcess.launch(tiny_bundle, tmp_path, max_queue_delay_ms=7, extra_env={"LOG_FORMAT": "x"})
    try:
        assert server.env["CLINX_MAX_QUEUE_DELAY_MS"] == "7"
        assert server.env["CLINX_BUNDLE"] == str(tiny_bundle)
        assert server.env["CLINX_PORT"] == str(server.port)
        assert "CLINX_MAX_BATCH_TOKENS" not in server.env
        assert server.env["LOG_FORMAT"] == "x"
    finally:
        server.stop()


def test_the_command_follows_the_checkout(tmp_path: Path) -> None:
    assert serve_command(tmp_path)[1:] == ["-m", OLD_CLI_MODULE, "serve"]
    (tmp_path / CLI_MODULE).mkdir()
    assert serve_command(tmp_path)[1:] == ["-m", CLI_MODULE, "serve"]


def test_the_helper_imports_no_server_code() -> None:
    """A checkout of another commit is served with its own ``app`` (benchmarks/ab_engine.py): the helper stays out."""
    from tests.test_layering import imported_modules

    imports = imported_modules(Path(__file__).resolve().parents[1] / "benchmarks" / "server_process.py")
    assert not {name for name in imports if name.split(".")[0] in ("app", "clinx_cli", "model_export")}, imports
