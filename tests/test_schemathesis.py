"""schemathesis against the running server's /openapi.json: no 5xx, responses match the schema."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ServerProcess

CONFIG = Path(__file__).with_name("schemathesis.toml")  # what no schema can say (spans within their text)


def test_openapi_contract_holds_under_generated_requests(tiny_bundle: Path, tiny_deid_bundle: Path,
                                                          tmp_path: Path) -> None:
    executable = shutil.which("schemathesis") or str(Path(sys.executable).with_name("schemathesis"))
    if not Path(executable).exists():
        pytest.skip("schemathesis is not installed (it is part of the dev extra)")
    with ServerProcess.start(f"{tiny_bundle},{tiny_deid_bundle}", tmp_path,
                             deid_secret="schemathesis-secret-0123456789") as server:
        result = subprocess.run(
            [executable, "--config-file", str(CONFIG), "run", server.url + "/openapi.json", "--checks", "all",
             "--max-examples", "80", "--seed", "20261125", "--workers", "1"],
            capture_output=True, text=True, timeout=600,
        )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout or "passed" in result.stdout, result.stdout[-3000:]
