"""Retake docs/img/ui.png: the page on a synthetic sample note, served by a real ``clinx serve``.

    .venv/bin/python docs/img/screenshot.py [--bundle models/demo] [--sample "Discharge summary"]

Headless Debian Chromium through Playwright (as the browser tests drive it), the bundle's int8
variant, the sample chosen from the page's own list, the third concept reached with Tab so its
tooltip shows.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.support import ServerProcess  # noqa: E402
from tests.ui_support import CHROMIUM, LAUNCH_ARGS  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bundle", type=Path, default=ROOT / "models" / "demo")
    parser.add_argument("--sample", default="Discharge summary (synthetic)")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "img" / "ui.png")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as logs, \
            ServerProcess.start(args.bundle, Path(logs), variant="int8") as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(server.url + "/")
        page.wait_for_selector("#model:not([disabled])")
        page.select_option("#sample", label=args.sample)
        page.click("#extract")
        page.wait_for_selector("#status:has-text('found')")
        marks = page.locator("#rendered mark.entity")
        marks.nth(0).focus()
        for _ in range(2):
            page.keyboard.press("Tab")
        page.screenshot(path=str(args.output), full_page=True)
        browser.close()
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
