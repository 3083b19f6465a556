"""Create the demo users (one per role) with the password in $DEMO_PASSWORD; idempotent."""

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from identity_site.accounts.models import Role, User

DEMO_USERS = [
    ("manager@coffeeshop.local", "Maya Manager", Role.MANAGER),
    ("barista@coffeeshop.local", "Ben Barista", Role.BARISTA),
    ("customer@coffeeshop.local", "Cora Customer", Role.CUSTOMER),
]


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("DEMO_PASSWORD")
        if not password:
            raise CommandError("set DEMO_PASSWORD (manage_all.py does, from OpenBao)")
        for email, name, role in DEMO_USERS:
            user, created = User.objects.get_or_create(
                email=email,
                defaults={
                    "full_name": name,
                    "role": role,
                    "is_staff": role == Role.MANAGER,
                    "is_superuser": role == Role.MANAGER,
                },
            )
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
            self.stdout.write(f"{'created' if created else 'kept'} {email} ({role})")
