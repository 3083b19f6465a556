"""`manage.py seed_menu`: the demo menu, created where missing (safe to run on every `up`)."""

from typing import Any

from django.core.management.base import BaseCommand

from order_site.menu.services import menu_seed


class Command(BaseCommand):
    help = "Create the demo menu where it is missing (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = menu_seed()
        self.stdout.write(f"menu seeded: {created} rows created")
