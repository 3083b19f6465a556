"""Rotate the ID-token signing key: a new key signs from now on, the old one stays in
the JWKS (with its `kid`) until every token it signed has expired, then leaves it.

The key set lives in OpenBao at `secret/coffeeshop/identity-keys`, which Identity's own
AppRole can read but not write. So this command does not use the site's credentials
to write: it reads an OpenBao token on stdin (never from the command line, which `ps`
shows), one allowed to read and write that path only, under the policy
`coffeeshop-identity-key-rotation`. `python3 manage_all.py rotate-signing-key` mints
such a token for five minutes, runs this command with it and revokes it; in production
an operator or a scheduled job holding that policy does the same.

Running sites pick the new key up within SIGNING_KEYS_REFRESH_SECONDS; no restart.
"""

import sys
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from identity_site.oauth.signing_keys import (
    KEYS_PATH,
    refresh_seconds,
    retirement_window,
    signing_key_rotate,
)
from shared.secrets import SecretStoreError


class Command(BaseCommand):
    help = __doc__
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--retire-after",
            type=int,
            metavar="SECONDS",
            help="keep the old key published this long (default: the longest token "
            "lifetime + the key refresh interval + a clock leeway); shorter is refused",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stdin = options.get("stdin") or sys.stdin
        token = stdin.readline().strip()
        if not token:
            raise CommandError(
                f"give an OpenBao token allowed to write secret/{KEYS_PATH} on stdin "
                "(python3 manage_all.py rotate-signing-key does this)"
            )
        window = retirement_window()
        if options.get("retire_after") is not None:
            asked = timedelta(seconds=options["retire_after"])
            if asked < window:
                raise CommandError(
                    f"--retire-after {options['retire_after']} is shorter than the tokens "
                    f"the old key signed may live ({int(window.total_seconds())} s)"
                )
            window = asked
        try:
            rotation = signing_key_rotate(
                vault_addr=settings.VAULT_ADDR, token=token, retire_for=window
            )
        except SecretStoreError as err:
            raise CommandError(f"nothing rotated: {err}") from None
        self.stdout.write(
            f"signing key is now {rotation.new_kid}; {rotation.retired_kid} is retired and "
            f"leaves the JWKS after {rotation.drop_after.isoformat()}\n"
            f"published kids: {', '.join(rotation.published_kids)}\n"
            "running sites sign with the new key within "
            f"{refresh_seconds()} s"
        )
