"""The Dapr resource documents (charts/coffeeshop/files/dapr/) as devstack renders them
for local runs: the same files the Helm chart reads, only `{{ .Values.a.b }}` lookups."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from devstack import mesh
from devstack.mesh import DAPR_FILES, Mesh, TemplateError, render


def test_render_substitutes_nested_values_and_booleans_as_helm_does() -> None:
    text = 'addr: "{{ .Values.vault.address }}"\nmtls: {{.Values.dapr.mtls}}\n'

    out = render(text, {"vault": {"address": "http://127.0.0.1:8200"}, "dapr": {"mtls": False}})

    assert out == 'addr: "http://127.0.0.1:8200"\nmtls: false\n'


def test_render_refuses_a_missing_value_naming_it() -> None:
    with pytest.raises(TemplateError, match=r"no value for \.Values\.vault\.address"):
        render("{{ .Values.vault.address }}", {"vault": {}})


def test_render_refuses_template_syntax_beyond_value_lookups() -> None:
    with pytest.raises(TemplateError, match="unsupported template syntax"):
        render('{{ .Values.a | quote }}\n{{ include "x" . }}', {"a": "1"})


def test_every_shared_document_uses_value_lookups_only() -> None:
    names = sorted(path.name for path in DAPR_FILES.glob("*.yaml"))

    assert names == ["configuration.yaml", "resiliency.yaml", "secretstore.yaml"]
    sidecar_mesh = Mesh(
        state_dir=Path("/state"),
        base_port=23500,
        site_ports={"bff": 8000, "identity": 8001, "order": 8002},
        vault_addr="http://127.0.0.1:28200",
    )
    sidecar = sidecar_mesh.sidecars["order-dapr"]
    values = sidecar_mesh.values(sidecar, mtls=True)
    docs = {name: yaml.safe_load(render((DAPR_FILES / name).read_text(), values)) for name in names}

    store = docs["secretstore.yaml"]
    assert store["spec"]["type"] == "secretstores.hashicorp.vault"
    metadata = {item["name"]: item["value"] for item in store["spec"]["metadata"]}
    assert metadata["vaultAddr"] == "http://127.0.0.1:28200"
    assert metadata["vaultTokenMountPath"] == "/state/dapr/order/vault.token"
    assert sorted(store["scopes"]) == sorted(
        app.app_id for app in mesh.apps(dict.fromkeys(("bff", "identity", "order"), 1))
    )
    assert docs["configuration.yaml"]["spec"]["mtls"] == {
        "enabled": True,
        "controlPlaneTrustDomain": "localhost",  # daprd's default, which local Sentry uses
        "sentryAddress": sidecar_mesh.sentry.address,
    }
    assert set(docs["resiliency.yaml"]["spec"]["targets"]["apps"]) == {"order", "identity"}


def test_local_configuration_adds_the_sqlite_resolver_on_a_state_file(tmp_path: Path) -> None:
    local = Mesh(
        state_dir=tmp_path,
        base_port=23500,
        site_ports={"bff": 8000, "identity": 8001, "order": 8002},
        vault_addr="http://127.0.0.1:28200",
    )

    local.write_resources(mtls=False)

    config = yaml.safe_load((tmp_path / "dapr" / "bff" / "config.yaml").read_text())
    assert config["spec"]["nameResolution"]["component"] == "sqlite"
    assert config["spec"]["nameResolution"]["configuration"]["connectionString"] == str(
        tmp_path / "dapr" / "name-resolution.db"
    )
    assert sorted(p.name for p in (tmp_path / "dapr" / "bff" / "resources").iterdir()) == [
        "resiliency.yaml",
        "secretstore.yaml",
    ]
