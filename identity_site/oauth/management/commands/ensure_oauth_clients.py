"""Create or update OAuth clients from a JSON list read on stdin; idempotent.

Secrets arrive on stdin, never as arguments (a command line is visible to every
user through `ps`). Each item: client_id, name, grant_type ("authorization-code"
or "client-credentials"), secret, allowed_scopes, and optionally redirect_uris,
post_logout_redirect_uris, client_type, skip_authorization.
"""

import json
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from identity_site.oauth.services import oauth_client_ensure
from shared.problems import InvalidInput

FIELDS = {
    "client_id",
    "name",
    "grant_type",
    "secret",
    "allowed_scopes",
    "redirect_uris",
    "post_logout_redirect_uris",
    "client_type",
    "skip_authorization",
}


class Command(BaseCommand):
    help = __doc__
    stealth_options = ("stdin",)

    def handle(self, *args: Any, **options: Any) -> None:
        stdin = options.get("stdin") or sys.stdin
        try:
            specs = json.loads(stdin.read())
        except ValueError as err:
            raise CommandError(f"stdin is not JSON: {err}") from None
        if not isinstance(specs, list):
            raise CommandError("stdin must hold a JSON list of client specs")
        for spec in specs:
            unknown = set(spec) - FIELDS
            if unknown:
                raise CommandError(f"unknown fields {sorted(unknown)} in a client spec")
            try:
                app = oauth_client_ensure(**spec)
            except (InvalidInput, ValidationError, TypeError) as err:
                raise CommandError(str(err)) from None
            self.stdout.write(f"ensured {app.client_id} ({app.authorization_grant_type})")
