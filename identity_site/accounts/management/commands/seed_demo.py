"""Create the demo users (one per role) with the password in $DEMO_PASSWORD; idempotent."""

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from identity_site.accounts.models import Role, User
from identity_site.accounts.services import user_create, user_update

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
            created = not User.objects.filter(email=email).exists()
            if created:
                # Through the service, so Order hears of the demo users (user.created).
                user_create(
                    email=email,
                    password=password,
                    full_name=name,
                    role=role,
                    is_staff=role == Role.MANAGER,
                    is_superuser=role == Role.MANAGER,
                    # Demo addresses receive no mail worth reading: taken as verified.
                    email_verified=True,
                )
            else:
                kept = User.objects.get(email=email)
                if not kept.email_verified:
                    user_update(user=kept, email_verified=True)
            self.stdout.write(f"{'created' if created else 'kept'} {email} ({role})")
