"""Identity's ID-token signing keys in OpenBao, apart from its secret
(identity_site/oauth/signing_keys.py; docs/decisions.md, "Signing keys").

The site's AppRole reads them; only a short-lived token under ROTATION_POLICY, minted
for `manage_all.py rotate-signing-key`, may write them.
"""

from __future__ import annotations

import hvac.exceptions

from devstack.servers.openbao import OpenBao, site_secret_path

IDENTITY_KEYS_PATH = "coffeeshop/identity-keys"
ROTATION_POLICY = "coffeeshop-identity-key-rotation"


def _rsa_private_key() -> str:
    """A 2048-bit RSA key in PEM: Identity's OIDC ID-token signing key."""
    from jwcrypto import jwk

    key = jwk.JWK.generate(kty="RSA", size=2048)
    return key.export_to_pem(private_key=True, password=None).decode()


def ensure_identity_keys(openbao: OpenBao, identity_secret: dict[str, str]) -> None:
    """Identity's key set exists (a stack from before it existed keeps its key, which
    lived in Identity's secret as `oidc_rsa_private_key`), and so does the policy a
    rotation token gets: read and write that one path, nothing else."""
    kv = openbao.admin_client().secrets.kv.v2
    try:
        kv.read_secret_version(
            path=IDENTITY_KEYS_PATH, mount_point="secret", raise_on_deleted_version=True
        )
    except hvac.exceptions.InvalidPath:
        key = identity_secret.get("oidc_rsa_private_key") or _rsa_private_key()
        # cas=0: write only if nobody created it meanwhile.
        kv.create_or_update_secret(
            path=IDENTITY_KEYS_PATH,
            secret={"signing_key": key, "retired_keys": "[]"},
            cas=0,
            mount_point="secret",
        )
    if "oidc_rsa_private_key" in identity_secret:
        # Now a stale copy: once rotated, it would linger as a second, forgotten key.
        identity = site_secret_path("identity")
        current = kv.read_secret_version(
            path=identity, mount_point="secret", raise_on_deleted_version=True
        )["data"]
        kept = {k: v for k, v in current["data"].items() if k != "oidc_rsa_private_key"}
        kv.create_or_update_secret(
            path=identity,
            secret=kept,
            cas=int(current["metadata"]["version"]),
            mount_point="secret",
        )
    openbao.admin_client().sys.create_or_update_policy(
        name=ROTATION_POLICY,
        policy=f'path "secret/data/{IDENTITY_KEYS_PATH}" {{\n'
        '  capabilities = ["read", "create", "update"]\n}\n',
    )


def rotation_token(openbao: OpenBao, ttl: str = "5m") -> str:
    """A token that may read and write Identity's key set only, for `ttl`; revoke it with
    `revoke_token` once the rotation is done."""
    created = openbao.admin_client().auth.token.create(
        policies=[ROTATION_POLICY],
        no_default_policy=True,
        renewable=False,
        ttl=ttl,
        explicit_max_ttl=ttl,
        display_name="identity-key-rotation",
    )
    return str(created["auth"]["client_token"])


def revoke_token(openbao: OpenBao, token: str) -> None:
    openbao.admin_client().auth.token.revoke(token)
