"""How a site chooses and reads its Vault login from the environment (shared.secrets):
AppRole by default, Kubernetes auth with VAULT_AUTH=kubernetes. No server needed; the
logins themselves are proven against a real OpenBao and kube-apiserver in
tests/deploy/test_vault_kubernetes.py and tests/infra/test_openbao.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.secrets import (
    KUBERNETES_MOUNT,
    KUBERNETES_TOKEN_FILE,
    AppRoleLogin,
    KubernetesLogin,
    SecretStoreError,
    load_site_secrets_from_env,
    login_from_env,
)

ADDR = "http://127.0.0.1:1"


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text("eyJhbGciOiJSUzI1NiJ9.payload.signature\n")
    return path


def test_kubernetes_login_reads_role_mount_and_token_file(token_file: Path) -> None:
    environ = {
        "VAULT_AUTH": "kubernetes",
        "VAULT_ADDR": ADDR,
        "VAULT_KUBERNETES_ROLE": "coffeeshop-order",
        "VAULT_KUBERNETES_MOUNT": "/k8s-prod/",
        "VAULT_KUBERNETES_TOKEN_FILE": str(token_file),
    }

    addr, login = login_from_env(environ)

    assert addr == ADDR
    assert login == KubernetesLogin(
        role="coffeeshop-order",
        jwt="eyJhbGciOiJSUzI1NiJ9.payload.signature",
        mount="k8s-prod",
    )


def test_kubernetes_mount_defaults_to_kubernetes(token_file: Path) -> None:
    environ = {
        "VAULT_AUTH": "Kubernetes",
        "VAULT_ADDR": ADDR,
        "VAULT_KUBERNETES_ROLE": "coffeeshop-bff",
        "VAULT_KUBERNETES_TOKEN_FILE": str(token_file),
    }

    _, login = login_from_env(environ)

    assert isinstance(login, KubernetesLogin)
    assert (login.role, login.mount) == ("coffeeshop-bff", KUBERNETES_MOUNT)


def test_kubernetes_token_file_defaults_to_the_pods_own_token_and_names_it() -> None:
    environ = {"VAULT_AUTH": "kubernetes", "VAULT_ADDR": ADDR, "VAULT_KUBERNETES_ROLE": "r"}

    if Path(KUBERNETES_TOKEN_FILE).exists():
        pytest.skip("this machine is a pod with its own service-account token")
    with pytest.raises(SecretStoreError, match=f"service-account token={KUBERNETES_TOKEN_FILE}"):
        login_from_env(environ)


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"VAULT_KUBERNETES_ROLE": "r"}, "VAULT_ADDR is not set"),
        ({"VAULT_ADDR": ADDR}, "VAULT_KUBERNETES_ROLE is not set"),
        ({"VAULT_ADDR": ADDR, "VAULT_KUBERNETES_ROLE": " "}, "VAULT_KUBERNETES_ROLE is not set"),
        (
            {
                "VAULT_ADDR": ADDR,
                "VAULT_KUBERNETES_ROLE": "r",
                "VAULT_KUBERNETES_TOKEN_FILE": "/nonexistent/token",
            },
            "can't read VAULT_KUBERNETES_TOKEN_FILE=/nonexistent/token",
        ),
    ],
)
def test_missing_kubernetes_setting_is_named_in_the_error(
    environ: dict[str, str], named: str
) -> None:
    with pytest.raises(SecretStoreError, match=named):
        load_site_secrets_from_env("order", {"VAULT_AUTH": "kubernetes", **environ})


def test_empty_token_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "token"
    empty.write_text("\n")
    environ = {
        "VAULT_AUTH": "kubernetes",
        "VAULT_ADDR": ADDR,
        "VAULT_KUBERNETES_ROLE": "r",
        "VAULT_KUBERNETES_TOKEN_FILE": str(empty),
    }

    with pytest.raises(SecretStoreError, match=f"VAULT_KUBERNETES_TOKEN_FILE={empty} is empty"):
        login_from_env(environ)


def test_approle_is_the_default_and_kubernetes_settings_are_ignored_then(tmp_path: Path) -> None:
    secret_id = tmp_path / "secret-id"
    secret_id.write_text("s-1\n")
    environ = {
        "VAULT_ADDR": ADDR,
        "VAULT_ROLE_ID": "role-1",
        "VAULT_SECRET_ID_FILE": str(secret_id),
        "VAULT_KUBERNETES_ROLE": "coffeeshop-order",
    }

    assert login_from_env(environ) == (ADDR, AppRoleLogin(role_id="role-1", secret_id="s-1"))
    assert login_from_env({**environ, "VAULT_AUTH": "approle"})[1] == AppRoleLogin(
        role_id="role-1", secret_id="s-1"
    )


def test_unknown_auth_method_is_refused_naming_the_choices() -> None:
    with pytest.raises(SecretStoreError, match=r"VAULT_AUTH='ldap'.*approle, kubernetes"):
        login_from_env({"VAULT_AUTH": "ldap", "VAULT_ADDR": ADDR})


def test_the_token_is_not_in_the_logins_repr(token_file: Path) -> None:
    environ = {
        "VAULT_AUTH": "kubernetes",
        "VAULT_ADDR": ADDR,
        "VAULT_KUBERNETES_ROLE": "coffeeshop-order",
        "VAULT_KUBERNETES_TOKEN_FILE": str(token_file),
    }

    _, login = login_from_env(environ)

    assert "payload" not in repr(login)
    assert "coffeeshop-order" in repr(login)


def test_an_unreachable_store_is_named_without_the_token(token_file: Path) -> None:
    environ = {
        "VAULT_AUTH": "kubernetes",
        "VAULT_ADDR": ADDR,
        "VAULT_KUBERNETES_ROLE": "coffeeshop-order",
        "VAULT_KUBERNETES_TOKEN_FILE": str(token_file),
    }

    with pytest.raises(SecretStoreError, match="unreachable") as exc:
        load_site_secrets_from_env("order", environ)

    assert "payload" not in str(exc.value)
