"""docker/venv_layers.py: which site needs which package (the per-role image layers),
and what `slim` leaves out. The package metadata comes from this checkout's `.venv`,
which holds every version docker/requirements.txt pins (test_chart.py checks they agree
with requirements.lock); the images themselves are checked in test_pods.py."""

from __future__ import annotations

import importlib.util
import re
import sys
import sysconfig
from pathlib import Path
from types import ModuleType

import pytest

from devstack.base import REPO_ROOT

DOCKER = REPO_ROOT / "docker"
ALL = frozenset({"identity", "order", "bff"})


@pytest.fixture(scope="module")
def venv_layers() -> ModuleType:
    spec = importlib.util.spec_from_file_location("venv_layers", DOCKER / "venv_layers.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["venv_layers"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def roles(venv_layers: ModuleType) -> dict[str, frozenset[str]]:
    """{package pinned in docker/requirements.txt: the site images that carry it}."""
    site = Path(sysconfig.get_paths()["purelib"])
    distributions = venv_layers.installed(site)
    needed = venv_layers.roles_of_distributions(
        distributions, (DOCKER / "requirements.in").read_text()
    )
    pinned = re.findall(r"^([A-Za-z0-9_.\-]+)==", (DOCKER / "requirements.txt").read_text(), re.M)
    return {venv_layers.canonical(name): needed[venv_layers.canonical(name)] for name in pinned}


def test_every_pinned_package_is_carried_by_some_site(roles: dict[str, frozenset[str]]) -> None:
    assert [name for name, sites in roles.items() if not sites] == []


@pytest.mark.parametrize(
    ("package", "sites"),
    [
        # The whole of Celery, down to the REPL libraries its command line imports.
        ("celery", {"identity", "order"}),
        ("kombu", {"identity", "order"}),
        ("prompt-toolkit", {"identity", "order"}),
        ("wcwidth", {"identity", "order"}),
        # The OAuth2/OIDC provider.
        ("django-oauth-toolkit", {"identity"}),
        ("oauthlib", {"identity"}),
        ("jwcrypto", {"identity"}),
        # The ASGI server.
        ("uvicorn", {"bff"}),
        ("uvloop", {"bff"}),
        ("httptools", {"bff"}),
        # Needed by every site, also through another package: the shared layer.
        ("django", ALL),
        ("redis", ALL),  # redis[hiredis] for all, and celery[redis]
        ("click", ALL),  # Celery's and uvicorn's command lines
        ("h11", ALL),  # uvicorn, and httpx through httpcore
        ("cryptography", ALL),
        ("confluent-kafka", ALL),
    ],
)
def test_a_package_is_in_the_layers_of_the_sites_that_need_it(
    roles: dict[str, frozenset[str]], package: str, sites: set[str]
) -> None:
    assert roles[package] == sites


def test_layer_names_cover_every_set_of_sites_but_all(venv_layers: ModuleType) -> None:
    names = venv_layers.layer_names()
    assert sorted(names) == sorted(
        ["identity-order", "identity-bff", "order-bff", "identity", "order", "bff"]
    )
    assert venv_layers.layer_name({"bff", "identity"}) == "identity-bff"
    assert venv_layers.layer_name(ALL) is None
    # The Containerfile copies exactly these into each site's image.
    containerfile = (DOCKER / "Containerfile").read_text()
    for name in names:
        assert f"/opt/venv-layers/{name}/ /opt/venv/" in containerfile


def test_an_unknown_role_in_requirements_in_is_refused(venv_layers: ModuleType) -> None:
    with pytest.raises(SystemExit, match="unknown roles"):
        venv_layers.requirement_roles("celery>=5  # roles: identity payments\n")


def test_slim_leaves_out_tests_stubs_sources_and_foreign_translations(
    venv_layers: ModuleType, tmp_path: Path
) -> None:
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    kept = [
        "django/test/utils.py",  # a runtime module that happens to be called test
        "django/contrib/admin/locale/en/LC_MESSAGES/django.mo",
        "django/conf/locale/de/formats.py",  # a format module, not a translation
        "jsonschema/validators.py",
        "psycopg/py.typed",
    ]
    dropped = [
        "jsonschema/tests/test_validators.py",
        "jsonschema/benchmarks/issue232.py",
        "uvloop/loop.pyx",
        "uvloop/loop.pxd",
        "cffi/parse_c_type.h",
        "hvac/api.pyi",
        "django/contrib/admin/locale/de/LC_MESSAGES/django.mo",
        "django/contrib/admin/locale/en/LC_MESSAGES/django.po",
        "django/contrib/gis/geos/point.py",
        "rest_framework/static/rest_framework/js/jquery.js",
        "confluent_kafka/schema_registry/__init__.py",
    ]
    for relative in kept + dropped:
        (site / relative).parent.mkdir(parents=True, exist_ok=True)
        (site / relative).write_text("x" * 10)

    saved = venv_layers.slim(tmp_path / "venv", strip=None)

    assert [r for r in kept if not (site / r).exists()] == []
    assert [r for r in dropped if (site / r).exists()] == []
    assert not (site / "django/contrib/admin/locale/de").exists()  # empty folders go too
    assert sum(saved.values()) == 10 * len(dropped)
