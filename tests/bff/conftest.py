"""Fixtures of the BFF's tests that run Identity and Order for real behind it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from devstack.stack import Stack


@pytest.fixture(scope="module")
def downstreams(test_stack: Stack) -> Iterator[Stack]:
    """Identity (with the OAuth clients) and Order (with the demo menu), running."""
    specs = json.dumps(test_stack.oauth_client_specs())

    def prepare(site: str) -> None:
        test_stack.manage(site, "migrate", "--noinput")
        if site == "identity":
            test_stack.manage("identity", "ensure_oauth_clients", stdin=specs)
        else:
            test_stack.manage("order", "seed_menu")
        test_stack.restart_site(site)

    sites = ("identity", "order")
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            for future in [pool.submit(prepare, site) for site in sites]:
                future.result()
        yield test_stack
    finally:
        for site in sites:
            process = test_stack.process(site)
            if process is not None:
                process.stop(timeout=10)
