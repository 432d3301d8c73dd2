"""Demo eligibility roster: enroll most members that have claims but no enrollment, fill provider networks."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ops.synthetic.roster import demo_roster_apply


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=837)
        parser.add_argument(
            "--unenrolled-share", type=float, default=0.1, help="members left without enrollment (0-1)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = demo_roster_apply(seed=options["seed"], unenrolled_share=options["unenrolled_share"])
        self.stdout.write(
            f"enrolled {result.enrolled} members ({result.left_unenrolled} left without enrollment), "
            f"{result.network_added} provider network entries added"
        )
