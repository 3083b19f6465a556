"""The BFF's shell page template and manifest reading, rendered without a Django site."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

from django.template import Context, Engine

from bff_site.web.assets import load_assets

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = REPO_ROOT / "bff_site" / "web" / "templates"


def manifest(tmp_path: Path) -> Path:
    (tmp_path / "manifest.json").write_text(
        json.dumps(
            {
                "schema": 1,
                "app_dir": "app/abc123/",
                "bootstrap": "app/abc123/bootstrap.js",
                "snapshot_worker": "app/abc123/snapshot-worker.js",
                "stylesheet": "app/abc123/app.css",
                "noscript_stylesheet": "app/abc123/noscript.css",
                "app_archive": "app/abc123/app.zip",
                "pyodide_dir": "pyodide/314.0.7/",
                "pyodide_module": "pyodide/314.0.7/pyodide.mjs",
            }
        )
    )
    return tmp_path


def render(assets) -> str:
    engine = Engine(dirs=[str(TEMPLATES)])
    return engine.get_template("web/shell.html").render(Context({"assets": assets}))


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text = ""
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.script_text += data.strip()


def test_assets_resolve_under_the_url_prefix(tmp_path):
    assets = load_assets(manifest(tmp_path), "/")

    assert assets is not None
    assert assets.bootstrap == "/app/abc123/bootstrap.js"
    assert assets.pyodide_dir == "/pyodide/314.0.7/"
    assert assets.version == "abc123"
    assert (
        load_assets(manifest(tmp_path), "/static/wasm/").stylesheet
        == "/static/wasm/app/abc123/app.css"
    )  # type: ignore[union-attr]


def test_missing_manifest_means_not_built(tmp_path):
    assert load_assets(tmp_path, "/") is None


def test_shell_paints_the_brand_a_loader_and_a_skeleton_without_inline_code(tmp_path):
    html = render(load_assets(manifest(tmp_path), "/"))
    parser = Tags()
    parser.feed(html)
    tags = parser.tags

    assert "<h1>Menu</h1>" in html
    assert ">CoffeeShop</a>" in html
    assert "<noscript>" in html
    assert 'data-testid="app-loading"' in html
    assert [a["src"] for t, a in tags if t == "script"] == ["/app/abc123/bootstrap.js"]
    assert parser.script_text == ""
    assert not any("style" in a for _, a in tags)
    assert not any(t == "style" for t, _ in tags)
    assert ("link", {"rel": "stylesheet", "href": "/app/abc123/app.css"}) in tags
    main = next(a for t, a in tags if t == "main")
    assert main["data-pyodide-dir"] == "/pyodide/314.0.7/"
    assert main["data-app-archive"] == "/app/abc123/app.zip"
    live = next(a for t, a in tags if a.get("id") == "live")
    assert live["aria-live"] == "polite"
