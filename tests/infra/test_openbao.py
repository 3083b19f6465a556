"""The local OpenBao server and the site-side secret reader, against a real server."""

from __future__ import annotations

import json
import os
import pwd
import socket
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import hvac
import hvac.exceptions
import pytest

from devstack.base import HOST, PortInUse, StartError, free_port
from devstack.servers.openbao import OpenBao, SiteCredentials
from shared.secrets import (
    SecretStoreError,
    load_site_secrets_from_env,
    read_secrets,
    read_site_secrets,
)


@pytest.fixture(scope="module")
def bao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenBao]:
    server = OpenBao(state_dir=tmp_path_factory.mktemp("state"), port=free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()
        server.account.purge()


def fixed(value: str, calls: list[str] | None = None) -> Callable[[], str]:
    def generate() -> str:
        if calls is not None:
            calls.append(value)
        return value

    return generate


def secret_id(creds: SiteCredentials) -> str:
    return creds.secret_id_file.read_text().strip()


def read_own(bao: OpenBao, creds: SiteCredentials) -> dict[str, str]:
    return read_site_secrets(
        site=creds.site, vault_addr=bao.url, role_id=creds.role_id, secret_id=secret_id(creds)
    )


def site_client(bao: OpenBao, creds: SiteCredentials) -> hvac.Client:
    client = hvac.Client(url=bao.url)
    client.auth.approle.login(role_id=creds.role_id, secret_id=secret_id(creds))
    return client


def test_start_again_adopts_the_running_server_on_loopback(bao: OpenBao) -> None:
    pid = bao.process().pid()
    bao.start()

    assert (bao.name, bao.url) == ("openbao", f"http://127.0.0.1:{bao.port}")
    assert bao.process().pid() == pid
    assert bao.healthy()


def test_site_reads_its_own_secret_through_its_approle(bao: OpenBao) -> None:
    creds = bao.ensure_site(
        "reader", {"DB_PASSWORD": fixed("pw-reader"), "SECRET_KEY": fixed("sk-reader")}
    )

    values = read_own(bao, creds)

    assert values == {"DB_PASSWORD": "pw-reader", "SECRET_KEY": "sk-reader"}
    assert creds.values == values


def test_site_loads_secrets_from_environment_with_secret_id_in_a_file(bao: OpenBao) -> None:
    creds = bao.ensure_site("envsite", {"DB_PASSWORD": fixed("pw-env")})
    environ = {
        "VAULT_ADDR": bao.url,
        "VAULT_ROLE_ID_FILE": str(creds.role_id_file),
        "VAULT_SECRET_ID_FILE": str(creds.secret_id_file),
    }

    assert load_site_secrets_from_env("envsite", environ) == {"DB_PASSWORD": "pw-env"}
    assert creds.env(bao.url) == environ


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"VAULT_ROLE_ID": "r", "VAULT_SECRET_ID_FILE": "/nonexistent"}, "VAULT_ADDR"),
        ({"VAULT_ADDR": "http://127.0.0.1:1", "VAULT_SECRET_ID_FILE": "/x"}, "VAULT_ROLE_ID_FILE"),
        ({"VAULT_ADDR": "http://127.0.0.1:1", "VAULT_ROLE_ID": "r"}, "VAULT_SECRET_ID_FILE"),
        (
            {
                "VAULT_ADDR": "http://127.0.0.1:1",
                "VAULT_ROLE_ID": "r",
                "VAULT_SECRET_ID_FILE": "/no",
            },
            "VAULT_SECRET_ID_FILE=/no",
        ),
    ],
)
def test_missing_setting_is_named_in_the_error(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SecretStoreError, match=named):
        load_site_secrets_from_env("anysite", environ)


def test_secret_id_in_an_environment_variable_is_refused_without_echoing_it() -> None:
    environ = {"VAULT_ADDR": "http://127.0.0.1:1", "VAULT_ROLE_ID": "r", "VAULT_SECRET_ID": "s3"}

    with pytest.raises(SecretStoreError, match="VAULT_SECRET_ID_FILE is not set") as exc:
        load_site_secrets_from_env("anysite", environ)

    assert "s3" not in str(exc.value)


def test_approle_of_one_site_is_refused_another_sites_secret(bao: OpenBao) -> None:
    own = bao.ensure_site("alpha", {"DB_PASSWORD": fixed("pw-alpha")})
    bao.ensure_site("beta", {"DB_PASSWORD": fixed("pw-beta")})
    client = site_client(bao, own)

    with pytest.raises(hvac.exceptions.Forbidden):
        client.secrets.kv.v2.read_secret_version(
            path="coffeeshop/beta", mount_point="secret", raise_on_deleted_version=True
        )
    own_secret = client.secrets.kv.v2.read_secret_version(
        path="coffeeshop/alpha", mount_point="secret", raise_on_deleted_version=True
    )
    assert own_secret["data"]["data"] == {"DB_PASSWORD": "pw-alpha"}


def test_approle_may_only_read_its_secret_not_write_list_or_see_metadata(bao: OpenBao) -> None:
    creds = bao.ensure_site("narrow", {"DB_PASSWORD": fixed("pw-narrow")})
    kv = site_client(bao, creds).secrets.kv.v2

    with pytest.raises(hvac.exceptions.Forbidden):
        kv.create_or_update_secret(
            path="coffeeshop/narrow", secret={"x": "y"}, mount_point="secret"
        )
    with pytest.raises(hvac.exceptions.Forbidden):
        kv.read_secret_metadata(path="coffeeshop/narrow", mount_point="secret")
    with pytest.raises(hvac.exceptions.Forbidden):
        kv.list_secrets(path="coffeeshop", mount_point="secret")
    assert read_own(bao, creds) == {"DB_PASSWORD": "pw-narrow"}


def test_reading_another_sites_secret_reports_permission_denied_without_its_value(
    bao: OpenBao,
) -> None:
    own = bao.ensure_site("gamma", {"DB_PASSWORD": fixed("pw-gamma")})
    bao.ensure_site("delta", {"DB_PASSWORD": fixed("pw-delta")})

    with pytest.raises(SecretStoreError, match="refused to read secret/coffeeshop/delta") as exc:
        read_site_secrets(
            site="delta", vault_addr=bao.url, role_id=own.role_id, secret_id=secret_id(own)
        )

    assert "pw-delta" not in str(exc.value)


def test_ensure_site_twice_keeps_existing_values_and_adds_missing_keys(bao: OpenBao) -> None:
    calls: list[str] = []
    first = bao.ensure_site("keeper", {"DB_PASSWORD": fixed("first", calls)})

    second = bao.ensure_site(
        "keeper",
        {"DB_PASSWORD": fixed("second", calls), "SECRET_KEY": fixed("added", calls)},
    )

    assert calls == ["first", "added"]
    assert second.values == {"DB_PASSWORD": "first", "SECRET_KEY": "added"}
    assert read_own(bao, second) == {"DB_PASSWORD": "first", "SECRET_KEY": "added"}
    assert second.role_id == first.role_id
    assert second.secret_id_file.read_text() == first.secret_id_file.read_text()


def test_ensure_site_replaces_a_secret_id_the_server_no_longer_knows(bao: OpenBao) -> None:
    creds = bao.ensure_site("renewer", {"DB_PASSWORD": fixed("pw-renewer")})
    creds.secret_id_file.write_text("00000000-0000-0000-0000-000000000000\n")

    renewed = bao.ensure_site("renewer", {"DB_PASSWORD": fixed("unused")})

    assert secret_id(renewed) != "00000000-0000-0000-0000-000000000000"
    assert read_own(bao, renewed) == {"DB_PASSWORD": "pw-renewer"}


def test_site_without_a_secret_gets_no_secret_error(bao: OpenBao) -> None:
    creds = bao.ensure_site("empty", {})

    with pytest.raises(SecretStoreError, match="no secret secret/coffeeshop/empty"):
        read_own(bao, creds)


def test_shared_secret_is_readable_only_by_sites_granted_its_path(bao: OpenBao) -> None:
    bao.write_shared("coffeeshop/shared/payment", {"PROVIDER_KEY": "pk-shared"})
    granted = bao.ensure_site(
        "payer", {"DB_PASSWORD": fixed("pw-payer")}, extra_read_paths=["coffeeshop/shared/payment"]
    )
    other = bao.ensure_site("nonpayer", {"DB_PASSWORD": fixed("pw-nonpayer")})

    values = read_secrets(
        paths=["coffeeshop/payer", "coffeeshop/shared/payment"],
        vault_addr=bao.url,
        role_id=granted.role_id,
        secret_id=secret_id(granted),
    )

    assert values == {
        "coffeeshop/payer": {"DB_PASSWORD": "pw-payer"},
        "coffeeshop/shared/payment": {"PROVIDER_KEY": "pk-shared"},
    }
    with pytest.raises(SecretStoreError, match="permission denied"):
        read_secrets(
            paths=["coffeeshop/shared/payment"],
            vault_addr=bao.url,
            role_id=other.role_id,
            secret_id=secret_id(other),
        )


def test_wrong_secret_id_is_refused_without_echoing_it(bao: OpenBao) -> None:
    creds = bao.ensure_site("liar", {"DB_PASSWORD": fixed("pw-liar")})
    wrong = "11111111-2222-3333-4444-555555555555"

    with pytest.raises(SecretStoreError, match="AppRole login refused") as exc:
        read_site_secrets(site="liar", vault_addr=bao.url, role_id=creds.role_id, secret_id=wrong)

    assert wrong not in str(exc.value)
    assert "pw-liar" not in str(exc.value)


def test_unreachable_store_is_reported_with_its_address() -> None:
    addr = f"http://{HOST}:{free_port()}"

    with pytest.raises(SecretStoreError, match=f"OpenBao at {addr} is unreachable: .*refused"):
        read_site_secrets(site="any", vault_addr=addr, role_id="r", secret_id="s", timeout=2)


def test_sealed_store_fails_reads_as_sealed_until_unsealed(bao: OpenBao) -> None:
    creds = bao.ensure_site("sealer", {"DB_PASSWORD": fixed("pw-sealer")})

    bao.seal()
    try:
        assert not bao.healthy()
        with pytest.raises(SecretStoreError, match=f"OpenBao at {bao.url} is sealed"):
            read_own(bao, creds)
    finally:
        bao.unseal()

    assert bao.healthy()
    assert read_own(bao, creds) == {"DB_PASSWORD": "pw-sealer"}


def test_restart_unseals_from_init_file_and_keeps_secrets(bao: OpenBao) -> None:
    creds = bao.ensure_site("survivor", {"DB_PASSWORD": fixed("pw-survivor")})
    old_pid = bao.process().pid()

    bao.stop()
    assert not bao.process().alive()
    assert not bao.healthy()
    bao.start()

    assert bao.process().pid() not in (None, old_pid)
    assert bao.healthy()
    assert read_own(bao, creds) == {"DB_PASSWORD": "pw-survivor"}
    again = bao.ensure_site("survivor", {"DB_PASSWORD": fixed("regenerated")})
    assert again.values == {"DB_PASSWORD": "pw-survivor"}


def test_init_file_is_private_to_the_invoking_user(bao: OpenBao) -> None:
    info = bao.init_file.stat()

    assert stat.S_IMODE(info.st_mode) == 0o600
    assert info.st_uid == os.geteuid()
    assert set(json.loads(bao.init_file.read_text())) == {"unseal_key", "root_token"}


def test_approle_files_are_private_to_the_account_sites_run_as(bao: OpenBao) -> None:
    creds = bao.ensure_site("owner", {"DB_PASSWORD": fixed("pw-owner")})
    expected_uid = pwd.getpwnam(bao.user).pw_uid if bao.user else os.geteuid()

    for path in (creds.role_id_file, creds.secret_id_file):
        info = path.stat()
        assert stat.S_IMODE(info.st_mode) == 0o600
        assert info.st_uid == expected_uid
    assert creds.role_id_file.read_text().strip() == creds.role_id


def test_credentials_repr_does_not_show_secret_values(bao: OpenBao) -> None:
    creds = bao.ensure_site("quiet", {"DB_PASSWORD": fixed("pw-quiet")})

    assert "pw-quiet" not in repr(creds)


def test_start_on_a_taken_port_raises_port_in_use_naming_port_and_setting(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind((HOST, 0))
        holder.listen()
        port = holder.getsockname()[1]
        server = OpenBao(state_dir=tmp_path, port=port)

        with pytest.raises(PortInUse) as exc:
            server.start()

    assert exc.value.port == port
    assert exc.value.setting == "COFFEESHOP_OPENBAO_PORT"
    assert f"port {port}" in str(exc.value)
    assert "COFFEESHOP_OPENBAO_PORT" in str(exc.value)
    assert list(tmp_path.iterdir()) == []


def test_start_without_init_file_refuses_to_run_a_store_it_cannot_unseal(tmp_path: Path) -> None:
    server = OpenBao(state_dir=tmp_path, port=free_port())
    server.start()
    server.stop()
    keys = server.init_file.read_text()
    server.init_file.unlink()

    try:
        with pytest.raises(StartError, match=r"init\.json is missing"):
            server.start()
        assert not server.process().alive()
    finally:
        server.init_file.write_text(keys)
        server.stop()
        server.account.purge()
