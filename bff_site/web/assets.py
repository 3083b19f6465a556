"""Where the built web client's files are, read once from `wasm_client/dist/manifest.json`.

`wasm_client/build.py` writes the manifest; the BFF serves `wasm_client/dist/` as
static files (see README of wasm_client). Settings (both optional):

- `WASM_CLIENT_DIST_DIR`: the dist folder (default: `<repo>/wasm_client/dist`);
- `WASM_CLIENT_URL_PREFIX`: the URL that folder is served under (default `/`,
  i.e. `WHITENOISE_ROOT`; `/static/wasm/` if it is a STATICFILES_DIRS entry).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)

DEFAULT_DIST_DIR = Path(__file__).resolve().parents[2] / "wasm_client" / "dist"


@dataclass(frozen=True)
class ClientAssets:
    """Absolute URL paths of what the shell page loads."""

    stylesheet: str
    noscript_stylesheet: str
    bootstrap: str
    snapshot_worker: str
    pyodide_module: str
    pyodide_dir: str
    app_archive: str
    version: str
    # The same archive on disk: the BFF renders first pages with its views (zipimport).
    archive_path: Path | None = None


def dist_dir() -> Path:
    return Path(getattr(settings, "WASM_CLIENT_DIST_DIR", DEFAULT_DIST_DIR))


def url_prefix() -> str:
    prefix = str(getattr(settings, "WASM_CLIENT_URL_PREFIX", "/"))
    return "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"


def load_assets(dist: Path | None = None, prefix: str | None = None) -> ClientAssets | None:
    """The assets named by the manifest, or None (logged) when the client isn't built."""
    dist = dist if dist is not None else dist_dir()
    prefix = prefix if prefix is not None else url_prefix()
    try:
        manifest = json.loads((dist / "manifest.json").read_text(encoding="utf-8"))
        assets = ClientAssets(
            stylesheet=prefix + manifest["stylesheet"],
            noscript_stylesheet=prefix + manifest["noscript_stylesheet"],
            bootstrap=prefix + manifest["bootstrap"],
            snapshot_worker=prefix + manifest["snapshot_worker"],
            pyodide_module=prefix + manifest["pyodide_module"],
            pyodide_dir=prefix + manifest["pyodide_dir"],
            app_archive=prefix + manifest["app_archive"],
            version=str(manifest["app_dir"]).strip("/").rsplit("/", 1)[-1],
            archive_path=dist / manifest["app_archive"],
        )
    except (OSError, ValueError, KeyError) as err:
        log.warning(
            "web client not built (%s); run: python3 wasm_client/build.py",
            err,
            extra={"dist": str(dist)},
        )
        return None
    return assets
