"""`clinx demo`'s scheduling: bundles present are kept, only missing ones are built (side by side)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from model_export.demo import CONCEPTS, DEID, ensure_demo_bundles


def test_present_bundles_are_kept_without_building(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    outputs = [tmp_path / "demo", tmp_path / "demo-deid"]
    for output in outputs:
        output.mkdir()
        (output / "manifest.json").write_text("{}")
    with caplog.at_level(logging.INFO, logger="clinx.demo"):
        assert ensure_demo_bundles(list(zip(outputs, (CONCEPTS, DEID), strict=True))) == outputs
    assert caplog.text.count("demo bundle present") == 2 and "side by side" not in caplog.text
    assert all((output / "manifest.json").read_text() == "{}" for output in outputs)
