"""The page's and the docs' files over real HTTP (no browser): served from the package, nothing from outside."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
import pytest

from app.settings import Settings
from tests.support import ServerProcess

ROOT = Path(__file__).resolve().parents[1]
ATTRIBUTE_URL = re.compile(r"""(?:src|href|url)\s*[=:(]\s*["']([^"']+)["']""")


def referenced_urls(html: str) -> list[str]:
    return ATTRIBUTE_URL.findall(html)


def test_ui_is_on_by_default() -> None:
    assert Settings().ui is True


def test_page_and_its_files_are_served_with_a_same_origin_policy(fp32_server: tuple[ServerProcess, Path]) -> None:
    server, _ = fp32_server
    with httpx.Client(base_url=server.url, timeout=10) as client:
        page = client.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        policy = page.headers["content-security-policy"]
        assert "connect-src 'self'" in policy and "default-src 'none'" in policy
        for url in referenced_urls(page.text):
            assert not re.match(r"^(https?:)?//", url), f"the page loads {url} from elsewhere"
            response = client.get("/" + url)
            assert response.status_code == 200 and response.content, url
        script_type = client.get("/ui/app.js").headers["content-type"]
        assert script_type.startswith(("text/javascript", "application/javascript"))
        samples = client.get("/ui/samples.json").json()
    assert len(samples) >= 3
    assert all(sample["text"].strip() and sample["title"] and sample["task"] in ("concepts", "deid")
               for sample in samples)


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_pages_load_only_local_assets(fp32_server: tuple[ServerProcess, Path], path: str) -> None:
    server, _ = fp32_server
    with httpx.Client(base_url=server.url, timeout=10) as client:
        html = client.get(path).text
        urls = referenced_urls(html)
        assert urls, html[:500]
        for url in urls:
            assert url.startswith("/") and not url.startswith("//"), f"{path} loads {url} from elsewhere"
            response = client.get(url)
            assert response.status_code == 200 and len(response.content) > 1000, url
        if path == "/redoc":  # this ReDoc build asks its own page for the logo, not Redocly's CDN
            assert "cdn.redoc.ly" not in client.get("/docs-assets/redoc/redoc.standalone.js").text
            assert client.get("/redoc/logo-mini.svg").headers["content-type"] == "image/svg+xml"
        else:  # no badge from the public Swagger validator
            assert '"validatorUrl": null' in html
    assert "fonts.googleapis" not in html and "cdn." not in html


def test_ui_false_turns_the_page_off_but_not_the_docs(tiny_bundle: Path, tmp_path: Path) -> None:
    with ServerProcess.start(tiny_bundle, tmp_path, ui="false") as server, \
            httpx.Client(base_url=server.url, timeout=10) as client:
        assert client.get("/").status_code == 404
        assert client.get("/ui/app.js").status_code == 404
        assert client.get("/docs").status_code == 200
        assert client.get("/health/ready").status_code == 200


@pytest.mark.slow
def test_wheel_carries_the_page_files(tmp_path: Path) -> None:
    """The container installs the wheel, not the checkout: the page must travel as package data."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--disable-pip-version-check",
                    "-w", str(tmp_path), str(ROOT)], check=True, timeout=600)
    (wheel,) = tmp_path.glob("clinx_serve-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in (path.relative_to(ROOT).as_posix() for path in (ROOT / "app/ui/static").iterdir()):
        assert name in names, f"{name} is not in the wheel"
    assert json.loads(zipfile.ZipFile(wheel).read("app/ui/static/samples.json"))
