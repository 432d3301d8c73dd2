"""`manage.py loadtest_setup --sample PATH`: the load test's users and the claims they open (`make loadtest`).

Makes (or resets) three staff users, each with only what its part of the mix needs: ``loadtest-examiner`` in
"claims examiners", ``loadtest-analyst`` in "analysts", ``loadtest-ops`` with ``ops.view_ops_reports``. Their
password is ``LOADTEST_PASSWORD`` from the environment (scripts/loadtest.sh draws a new one per run; it is never
printed). Then writes PATH (JSON): up to ``--claims`` ids and claim numbers of the newest claims (one month's
partition, read by its bounds), and the analytics URLs the analysts open. Claim numbers are identifiers, not
names or dates of birth; the file stays on this machine (var/loadtest/).

Errors: CommandError when ``LOADTEST_PASSWORD`` is unset, a group is missing, or no claims are on file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from analytics.urls import urlpatterns as analytics_urlpatterns
from claims.models import Claim

EXAMINERS = "claims examiners"
ANALYSTS = "analysts"
# The analysts open every analytics URL there is (analytics/urls.py): a new page joins the load test unasked.
# The PDF export is left out: reportlab's rendering is a batch job's cost, not a page's.
EXCLUDED_URLS = frozenset({"report-pdf"})


def analytics_urls() -> tuple[list[str], list[str]]:
    """(the pages and the CSV export, the JSON endpoints) of analytics/urls.py, as paths."""
    names = [p.name for p in analytics_urlpatterns if p.name and p.name not in EXCLUDED_URLS]
    pages = [reverse(f"analytics:{n}") for n in names if not n.startswith("api-")]
    api = [reverse(f"analytics:{n}") for n in names if n.startswith("api-")]
    return pages, api


class Command(BaseCommand):
    help = (
        "The load test's three users (password from LOADTEST_PASSWORD) and a JSON sample of claims to open."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sample", type=Path, required=True, help="where to write the JSON sample")
        parser.add_argument("--claims", type=int, default=500, help="claims in the sample (default 500)")

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("LOADTEST_PASSWORD", "")
        if not password:
            raise CommandError("LOADTEST_PASSWORD is not set: the load test's users need a password")
        self._user("loadtest-examiner", password, group=EXAMINERS)
        self._user("loadtest-analyst", password, group=ANALYSTS)
        ops = self._user("loadtest-ops", password, group=None)
        ops.user_permissions.set(
            [Permission.objects.get(content_type__app_label="ops", codename="view_ops_reports")]
        )

        newest = (
            Claim.objects.order_by("-service_date_from").values_list("service_date_from", flat=True).first()
        )
        if newest is None:
            raise CommandError("no claims on file: load the demo data first (make demo-data, or make data)")
        month = newest.replace(day=1)
        rows = list(
            Claim.objects.filter(service_date_from__gte=month, service_date_from__lte=newest)
            .order_by("-id")
            .values_list("id", "claim_number")[: options["claims"]]
        )
        pages, api = analytics_urls()
        sample = {
            "claim_ids": [r[0] for r in rows],
            "claim_numbers": [r[1] for r in rows],
            "analytics_pages": pages,
            "analytics_api": api,
        }
        path: Path = options["sample"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(sample), encoding="utf-8")
        self.stdout.write(f"loadtest: 3 users ready; {len(rows)} claims of {month:%Y-%m} in {path}")

    def _user(self, username: str, password: str, *, group: str | None) -> Any:
        user, _ = get_user_model().objects.get_or_create(username=username, defaults={"is_staff": True})
        user.is_staff = True
        user.is_active = True
        user.set_password(password)
        user.save()
        if group and not Group.objects.filter(name=group).exists():
            raise CommandError(f'group "{group}" not found: the migrations make it (manage.py migrate)')
        user.groups.set(Group.objects.filter(name=group) if group else [])
        return user
