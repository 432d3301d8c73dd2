"""Create the platform's PostgreSQL roles (owner, app, reporting) from the administrative connection
(DATABASE_ADMIN_URL) and set their attributes; idempotent. Grants follow at every migrate (ops/roles.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ops.roles import (
    database_ensure,
    grants_apply,
    owner_url,
    roles_ensure,
    template_ensure,
    test_database_adopt,
)


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--admin-url",
            default=None,
            help="a superuser or CREATEROLE connection (default DATABASE_ADMIN_URL)",
        )
        # Switches, each store_true.
        for flag, what in (
            (
                "--database",
                "also create DATABASE_URL's database from the template, owned by the owner, when missing",
            ),
            ("--reset", "with --database: drop the database first"),
            (
                "--owner-url",
                "print the owner connection's URL (for scripts that run a tool as the owner) and stop",
            ),
            (
                "--grants",
                "also grant the privileges in DATABASE_URL's database now (migrate does it after every run)",
            ),
        ):
            parser.add_argument(flag, action="store_true", help=what)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["owner_url"]:
            self.stdout.write(owner_url())
            return
        for line in roles_ensure(options["admin_url"]):
            self.stdout.write(line)
        for line in template_ensure(options["admin_url"]) + test_database_adopt(options["admin_url"]):
            self.stdout.write(line)
        if options["database"]:
            for line in database_ensure(options["admin_url"], reset=options["reset"]):
                self.stdout.write(line)
        if options["grants"]:
            grants_apply()
            self.stdout.write("granted the app and reporting roles their privileges in this database")
