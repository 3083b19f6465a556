"""The menu's photos as the BFF serves them (issue 17): the built files, under names made
of their content, cached for a year; never under a name without that version.

The web client is built as `up` builds it; WhiteNoise serves its dist/ folder.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from bff_site.web.assets import dist_dir
from devstack import sites
from shared.photos import PHOTOS

PHOTOS_SOURCE = Path(__file__).resolve().parents[2] / "wasm_client" / "static" / "photos"
FOREVER = "max-age=315360000, public, immutable"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    sites.build_web_client()
    return dict(json.loads((dist_dir() / "manifest.json").read_text(encoding="utf-8")))


def test_every_photo_is_served_as_drawn_and_cached_for_a_year(manifest):
    assert sorted(manifest["photos"]) == sorted(PHOTOS)
    browser = Client()

    for key, path in manifest["photos"].items():
        response = browser.get("/" + path)

        assert response.status_code == 200, path
        assert response["Content-Type"] == "image/svg+xml"
        assert response["Cache-Control"] == FOREVER
        body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
        assert body == (PHOTOS_SOURCE / f"{key}.svg").read_bytes()


def test_a_photo_is_sent_compressed_to_a_browser_that_takes_gzip(manifest):
    path = manifest["photos"]["latte"]

    response = Client().get("/" + path, HTTP_ACCEPT_ENCODING="gzip")

    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert response["Cache-Control"] == FOREVER
    body = gzip.decompress(b"".join(response.streaming_content))  # type: ignore[attr-defined]
    assert body == (PHOTOS_SOURCE / "latte.svg").read_bytes()


def test_a_photo_has_no_address_without_its_version(manifest):
    response = Client().get("/photos/latte.svg")

    assert response.status_code == 404
    assert "immutable" not in response.get("Cache-Control", "")
