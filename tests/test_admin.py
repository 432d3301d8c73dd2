"""The admin at scale: every page renders, the claims list never counts the table, searches use the indexes.

Table sizes are simulated by writing ``pg_class.reltuples`` inside the test transaction (rolled back with it):
that is exactly what the estimated-count paginator reads, and it needs no 10 million rows. Writing a catalog
row needs a superuser, which the test database role is (``postgres``).
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.db.models import Model
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from claims.adjudication.edits import PendReason
from claims.admin import ClaimAdmin
from claims.lifecycle import StatusSource
from claims.models import (
    AdjudicationRun,
    Claim,
    ClaimAdjustment,
    ClaimLine,
    ClaimMonthCount,
    ClaimNumber,
    ClaimStatus,
    ClaimStatusHistory,
    IngestBatch,
    Remittance,
    RemittanceRun,
    WorkQueueClaim,
)
from claims.services.lifecycle import StatusChange, claims_status_change
from claims.tests.factories import (
    ClaimFactory,
    ClaimLineFactory,
    ClaimStatusHistoryFactory,
    IngestBatchFactory,
)
from members.models import Enrollment, HealthPlan, Member, MemberAccumulator, MemberPII
from members.tests.factories import EnrollmentFactory, HealthPlanFactory, MemberFactory, MemberPIIFactory
from ops.platform.paginators import EstimatedCountPaginator, estimated_row_count
from providers.models import Provider, ProviderNetwork, Specialty
from providers.npi import npi_is_valid
from providers.tests.factories import ProviderFactory, ProviderNetworkFactory, SpecialtyFactory
from tests import pgplan
from tests.owner import admin_execute

pytestmark = pytest.mark.django_db

ADMIN_APPS = ("members", "providers", "claims")
COUNT_OVER_CLAIMS = re.compile(r"\bCOUNT\(.*\bFROM\s+\"claims_claim\"", re.IGNORECASE | re.DOTALL)


@dataclass
class World:
    """One object of every registered model, and a second claim that no search for the first may return."""

    plan: HealthPlan
    member: Member
    pii: MemberPII
    enrollment: Enrollment
    specialty: Specialty
    provider: Provider
    network: ProviderNetwork
    batch: IngestBatch
    claim: Claim
    line: ClaimLine
    history: ClaimStatusHistory
    other_claim: Claim


@pytest.fixture
def world() -> World:
    plan = HealthPlanFactory(name="Buckeye Mutual Health")
    member = MemberFactory(member_number="M000777001", last_name="Quimbley", first_name="Ada")
    pii = MemberPIIFactory(member=member, phone="6145550199", ssn="900-12-3456")
    enrollment = EnrollmentFactory(member=member, plan=plan)
    specialty = SpecialtyFactory(name="Family Medicine (test)")
    provider = ProviderFactory(last_name="Hollowell", first_name="Grace", primary_specialty=specialty)
    network = ProviderNetworkFactory(provider=provider, plan=plan)
    batch = IngestBatchFactory(
        file_name="acme_20261101.837",
        warnings=[
            {"position": 42, "segment": "NM1", "element": "NM109", "message": "NPI check digit failed"}
        ],
        ack_999="ISA*00*~ST*999*0001*005010X231A1~AK9*A*1*1*1~",
    )
    claim = ClaimFactory(
        claim_number="ACME-1001", member=member, health_plan=plan, billing_provider=provider, batch=batch
    )
    line = ClaimLineFactory(claim=claim, line_number=1, procedure_code="99214")
    history = ClaimStatusHistoryFactory(claim=claim, note="loaded from acme file")
    other_claim = ClaimFactory(
        claim_number="ZETA-2002",
        member=MemberFactory(member_number="M000888002", last_name="Zubrowski"),
        billing_provider=ProviderFactory(last_name="Vantongeren"),
    )
    return World(
        plan, member, pii, enrollment, specialty, provider, network, batch, claim, line, history, other_claim
    )


# For each registered model: the object to open, and text that must appear on its changelist and change page.
PAGES: dict[str, Callable[[World], tuple[Model, str, str]]] = {
    "members.healthplan": lambda w: (w.plan, w.plan.name, w.plan.payer_id),
    "members.member": lambda w: (w.member, w.member.member_number, w.member.last_name),
    "members.memberpii": lambda w: (w.pii, w.member.member_number, "***-**-3456"),
    "members.enrollment": lambda w: (w.enrollment, w.member.member_number, w.plan.name),
    "providers.specialty": lambda w: (w.specialty, w.specialty.taxonomy_code, w.specialty.name),
    "providers.provider": lambda w: (w.provider, w.provider.npi, "Hollowell"),
    "providers.providernetwork": lambda w: (w.network, w.provider.npi, w.provider.npi),
    "claims.ingestbatch": lambda w: (w.batch, w.batch.file_name, "NPI check digit failed"),
    "claims.claim": lambda w: (w.claim, w.claim.claim_number, "99214"),
    "claims.claimline": lambda w: (w.line, "99214", w.claim.claim_number),
    "claims.claimstatushistory": lambda w: (
        w.history,
        reverse("admin:claims_claim_change", args=[w.claim.pk]),
        "loaded from acme file",
    ),
    "claims.adjudicationrun": lambda w: (
        AdjudicationRun.objects.create(started_at=timezone.now(), trigger="nightly test run", claims=3),
        "nightly test run",
        "nightly test run",
    ),
    "claims.claimadjustment": lambda w: (
        ClaimAdjustment.objects.create(
            claim=w.claim,
            claim_service_date_from=w.claim.service_date_from,
            line_number=1,
            group_code="CO",
            carc="45",
            amount=Decimal("12.34"),
        ),
        "12.34",
        "12.34",
    ),
    "claims.remittancerun": lambda w: (_remittance(w).run, "45.67", "45.67"),
    "claims.remittance": lambda w: (_remittance(w), "TRACE-777", "TRACE-777"),
    "claims.claimnumber": lambda w: (
        ClaimNumber.objects.get_or_create(
            claim_id=w.claim.id,
            defaults={
                "service_date_from": w.claim.service_date_from,
                "billing_provider_id": w.claim.billing_provider_id,
                "claim_number": w.claim.claim_number,
            },
        )[0],
        w.claim.claim_number,
        w.claim.claim_number,
    ),
    # The examiners' work queue lists pended claims; its change page is the claim page.
    "claims.workqueueclaim": lambda w: (_queued(w), w.claim.claim_number, "99214"),
    "claims.claimmonthcount": lambda w: (
        ClaimMonthCount.objects.filter(state=ClaimStatus.RECEIVED).order_by("id").first(),
        "received",
        "received",
    ),
    "members.memberaccumulator": lambda w: (
        MemberAccumulator.objects.create(
            member=w.member, plan=w.plan, plan_year=2026, deductible_met=Decimal("123.45")
        ),
        "123.45",
        "123.45",
    ),
}


def _queued(w: World) -> WorkQueueClaim:
    # Through the one status writer, which also counts the claim in its month (the queue lists those months).
    claims_status_change(
        changes=[
            StatusChange(
                w.claim.pk,
                w.claim.service_date_from,
                ClaimStatus.RECEIVED,
                ClaimStatus.PENDED,
                pend_reason=PendReason.HIGH_CHARGE,
            )
        ],
        source=StatusSource.EXAMINER,
    )
    return WorkQueueClaim.objects.get(pk=w.claim.pk)


def _remittance(w: World) -> Remittance:
    run = RemittanceRun.objects.create(
        started_at=timezone.now(), payment_date=dt.date(2026, 11, 27), claims=1, total_paid=Decimal("45.67")
    )
    return Remittance.objects.create(
        run=run,
        payee=w.provider,
        trace_number="TRACE-777",
        file_name="20261127_TEST_TRACE-777.835",
        sha256="0" * 64,
        size_bytes=10,
        claims=1,
        paid=Decimal("45.67"),
        content="ISA*~",
    )


def _url(model: type[Model] | Model, view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _partition(day: dt.date) -> str:
    return f"claims_claim_p{day:%Y_%m}"


@pytest.fixture(autouse=True)
def _planner_statistics_restored() -> Iterator[None]:
    """The claim tables' planner statistics as they were before the test: the tests below write them as the
    superuser (only it may write the catalog), committed, so they are put back after."""
    saved = admin_execute(
        "SELECT c.oid::regclass::text, c.reltuples FROM pg_class c WHERE c.relname LIKE 'claims\\_claim%%'"
    )
    yield
    admin_execute(
        "UPDATE pg_class c SET reltuples = s.r FROM unnest(%s::text[], %s::real[]) AS s(n, r) "
        "WHERE c.oid = s.n::regclass",
        params=[[n for n, _ in saved], [r for _, r in saved]],
    )


def _set_reltuples(values: dict[str, float]) -> None:
    """Write planner statistics for tables (as the superuser; put back by _planner_statistics_restored)."""
    for relation, reltuples in values.items():
        admin_execute(
            "UPDATE pg_class SET reltuples = %s WHERE oid = %s::regclass", params=[reltuples, relation]
        )


def _explain_captured(sql: str) -> pgplan.PlanNode:
    """EXPLAIN a captured query: its values are already inlined, so a LIKE pattern's % must not be a placeholder."""
    return pgplan.explain_sql(sql.replace("%", "%%"))


def _mark_claim_partitions_unanalyzed() -> None:
    admin_execute(
        "UPDATE pg_class SET reltuples = -1 "
        "WHERE oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'claims_claim'::regclass)"
    )


def _this_and_last_month() -> tuple[dt.date, dt.date]:
    today = dt.datetime.now(dt.UTC).date().replace(day=1)
    return today, (today - dt.timedelta(days=1)).replace(day=1)


# --- every page renders --------------------------------------------------------------------------------------


def test_every_model_of_the_apps_is_registered() -> None:
    models = [model for label in ADMIN_APPS for model in apps.get_app_config(label).get_models()]
    assert {f"{m._meta.app_label}.{m._meta.model_name}" for m in models} == set(PAGES)
    assert [m for m in models if not admin.site.is_registered(m)] == []


@pytest.mark.parametrize("label", sorted(PAGES))
def test_changelist_and_change_page_render_for_superuser(
    admin_client: Client, world: World, label: str
) -> None:
    obj, list_text, change_text = PAGES[label](world)

    changelist = admin_client.get(_url(obj, "changelist"))
    assert changelist.status_code == 200
    assert list_text in changelist.content.decode()

    change = admin_client.get(_url(obj, "change", obj.pk))
    assert change.status_code == 200
    assert change_text in change.content.decode()


@pytest.mark.parametrize("label", sorted(PAGES))
def test_add_page_renders_where_adding_is_allowed(admin_client: Client, admin_user: Any, label: str) -> None:
    model = apps.get_model(label)
    request = RequestFactory().get("/")
    request.user = admin_user
    allowed = admin.site.get_model_admin(model).has_add_permission(request)

    response = admin_client.get(_url(model, "add"))

    assert response.status_code == (200 if allowed else 403)


def test_read_only_models_offer_no_add_change_or_delete(admin_user: Any) -> None:
    request = RequestFactory().get("/")
    request.user = admin_user
    for model in (IngestBatch, ClaimStatusHistory):
        model_admin = admin.site.get_model_admin(model)
        assert model_admin.has_view_permission(request)
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
    # Claims are records of what was submitted: no deletes, and lines are only added on their claim.
    assert not admin.site.get_model_admin(Claim).has_delete_permission(request)
    assert not admin.site.get_model_admin(ClaimLine).has_add_permission(request)


def test_claim_page_shows_lines_and_read_only_status_history(admin_client: Client, world: World) -> None:
    response = admin_client.get(_url(Claim, "change", world.claim.pk))

    formsets = {f.formset.prefix: f for f in response.context["inline_admin_formsets"]}
    assert [form.instance for form in formsets["lines"].formset.forms] == [world.line]
    history = formsets["status_history"]
    assert [form.instance for form in history.formset.forms] == [world.history]
    assert (history.has_add_permission, history.has_change_permission, history.has_delete_permission) == (
        False,
        False,
        False,
    )


def test_line_added_on_the_claim_page_takes_the_claims_partition_key(
    admin_client: Client, world: World
) -> None:
    claim = world.claim
    response = admin_client.get(_url(Claim, "change", claim.pk))
    data = _form_data(response)
    data.update(
        {
            "lines-TOTAL_FORMS": "2",
            "lines-1-line_number": "2",
            "lines-1-procedure_qualifier": "HC",
            "lines-1-procedure_code": "85025",
            "lines-1-charge": "30.00",
            "lines-1-unit_basis": "UN",
            "lines-1-units": "1",
            "lines-1-paid": "0",
            # A line may be performed on a later day of the claim; its partition key stays the claim's.
            "lines-1-service_date": claim.service_date_from.isoformat(),
            "lines-1-service_date_to": claim.service_date_from.isoformat(),
        }
    )

    response = admin_client.post(_url(Claim, "change", claim.pk), data)

    assert response.status_code == 302, response.context["errors"] if response.context else response
    new_line = ClaimLine.objects.get(claim=claim, line_number=2)
    assert (new_line.service_date_from, new_line.procedure_code, new_line.charge) == (
        claim.service_date_from,
        "85025",
        Decimal("30.00"),
    )


def _form_data(response: Any) -> dict[str, str]:
    """The POST data a browser would send back for a rendered admin change form and its inlines."""
    data: dict[str, str] = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        forms.append(formset.management_form)
        forms.extend(formset.forms)
    for form in forms:
        for name, field in form.fields.items():
            value = form[name].value()
            if value is None:
                continue
            widget_data = field.widget.format_value(value) if not isinstance(value, list | tuple) else value
            key = form.add_prefix(name)
            if isinstance(widget_data, list | tuple):
                data[key] = ",".join(str(v) for v in widget_data)
            elif hasattr(field.widget, "widgets"):  # split date/time
                for i, part in enumerate(field.widget.decompress(value)):
                    data[f"{key}_{i}"] = "" if part is None else str(part)
            else:
                data[key] = "" if widget_data is None else str(widget_data)
    return data


# --- counts ----------------------------------------------------------------------------------------------------


def test_estimate_sums_the_partitions_and_ignores_the_parent_and_unanalyzed_ones(world: World) -> None:
    this_month, last_month = _this_and_last_month()
    _mark_claim_partitions_unanalyzed()
    # The parent's own figure is meaningless (autovacuum never analyzes a partitioned table).
    _set_reltuples(
        {_partition(this_month): 6_000_000, _partition(last_month): 4_000_000, "claims_claim": 123}
    )

    estimate = estimated_row_count(Claim)

    # 24 months back + this month + 3 ahead + DEFAULT, as in test_smoke.
    assert (estimate.rows, estimate.leaves, estimate.unanalyzed) == (10_000_000, 29, 27)


def test_claims_changelist_shows_an_estimate_and_never_counts_claims(
    admin_client: Client, world: World
) -> None:
    this_month, last_month = _this_and_last_month()
    _set_reltuples({_partition(this_month): 6_000_000, _partition(last_month): 4_000_000})

    # Every month: by default the list shows the recent months only, a filtered list (counted up to the limit).
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(_url(Claim, "changelist"), {"service_month": "all"})

    assert response.status_code == 200
    assert [q["sql"] for q in queries.captured_queries if COUNT_OVER_CLAIMS.search(q["sql"])] == []
    content = response.content.decode()
    assert "about 10,000,000" in content and "(estimated)" in content
    assert response.context["cl"].paginator.num_pages == 10_000_000 // ClaimAdmin.list_per_page
    # The page itself is the newest claims, read from claim_received_idx.
    assert world.claim.claim_number in content and world.other_claim.claim_number in content


def test_never_analyzed_claims_are_counted_exactly_up_to_the_limit(
    admin_client: Client, world: World
) -> None:
    # reltuples = -1 everywhere would estimate 0 rows; taken at its word, the admin would then load the whole
    # unsliced table as "one page". A count bounded by LIMIT is done instead.
    _mark_claim_partitions_unanalyzed()

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(_url(Claim, "changelist"))

    counts = [q["sql"] for q in queries.captured_queries if COUNT_OVER_CLAIMS.search(q["sql"])]
    assert len(counts) == 1 and f"LIMIT {EstimatedCountPaginator.exact_count_limit + 1}" in counts[0]
    assert response.context["cl"].result_count == 2
    assert "2 claims" in response.content.decode()


def test_filtered_count_stops_at_the_limit(admin_client: Client, world: World, monkeypatch: Any) -> None:
    monkeypatch.setattr(EstimatedCountPaginator, "exact_count_limit", 1)

    response = admin_client.get(_url(Claim, "changelist"), {"status__exact": ClaimStatus.RECEIVED})

    assert response.context["cl"].paginator.count_is_capped
    assert "more than 1 claims" in response.content.decode()


def test_sorting_received_at_ascending_keeps_the_index_order(admin_client: Client, world: World) -> None:
    column = admin_client.get(_url(Claim, "changelist")).context["cl"].list_display.index("received_at")

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(_url(Claim, "changelist"), {"o": str(column)})

    assert response.status_code == 200
    ordered = [
        q["sql"] for q in queries.captured_queries if "ORDER BY" in q["sql"] and "claims_claim" in q["sql"]
    ]
    assert ordered and all(
        'ORDER BY "claims_claim"."received_at" ASC, "claims_claim"."id" ASC' in sql for sql in ordered
    )


# --- searches --------------------------------------------------------------------------------------------------

SEARCHES: dict[str, Callable[[World], str]] = {
    "claim number, any case": lambda w: w.claim.claim_number.lower(),
    "member number": lambda w: w.member.member_number,
    "member last-name prefix": lambda w: "quimb",
    "member last, first prefix": lambda w: "Quimbley, A",
    "billing NPI": lambda w: w.provider.npi,
}

# Declared indexes each search must read (on top of whatever else the plan touches).
SEARCH_INDEXES: dict[str, set[str]] = {
    # Through the claim-number lookup (claimnumber_upper_idx), then the claim by (id, month): its primary key.
    "claim number, any case": {"claimnumber_upper_idx", "claims_claim_pkey"},
    "member number": {"member_number_uniq", "claim_member_history_idx"},
    "member last-name prefix": {"member_name_dob_upper_idx", "claim_member_history_idx"},
    "member last, first prefix": {"member_name_dob_upper_idx", "claim_member_history_idx"},
    # Plus, checked below, one of the two indexes on npi and one of the two leading with billing_provider.
    "billing NPI": {"claims_claim_rendering_provider_id_65e90d41"},
}


@pytest.mark.parametrize("kind", sorted(SEARCHES))
def test_claim_search_finds_the_claim_and_only_it(admin_client: Client, world: World, kind: str) -> None:
    assert npi_is_valid(world.provider.npi)

    response = admin_client.get(_url(Claim, "changelist"), {"q": SEARCHES[kind](world)})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [world.claim]
    content = response.content.decode()
    assert world.claim.claim_number in content
    assert world.other_claim.claim_number not in content


@pytest.mark.parametrize("kind", sorted(SEARCHES))
def test_claim_search_sql_reads_the_declared_indexes(admin_client: Client, world: World, kind: str) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(_url(Claim, "changelist"), {"q": SEARCHES[kind](world)})
    assert response.status_code == 200
    searched = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT")
        and re.search(r'FROM "(claims_claim|claims_claimnumber|members_member|providers_provider)"', q["sql"])
    ]

    used: set[str] = set()
    seq_scanned: set[str] = set()
    with connection.cursor() as cursor:
        # Forbid sequential scans so the plan shows which index answers each condition: on a few test rows
        # a sequential scan would win on cost and hide whether an index can serve the query at all.
        cursor.execute("SET LOCAL enable_seqscan = off")
    for sql in searched:
        plan = _explain_captured(sql)
        used |= pgplan.declared_index_names(plan)
        seq_scanned |= pgplan.seq_scanned_relations(plan)

    assert SEARCH_INDEXES[kind] <= used, sorted(used)
    assert not {
        r for r in seq_scanned if r.startswith(("claims_claim", "members_member", "providers_provider"))
    }
    if kind == "billing NPI":
        # npi's unique index, or the varchar_pattern_ops copy Django adds to every indexed CharField.
        assert any(name.startswith("providers_provider_npi_") for name in used), sorted(used)
        assert "claim_billing_date_idx" in used, sorted(used)


def test_search_results_are_sorted_after_filtering_not_by_walking_the_sort_index(
    admin_client: Client, world: World
) -> None:
    older = ClaimFactory(
        claim_number="ACME-0999",
        member=world.member,
        received_at=world.claim.received_at - dt.timedelta(days=1),
    )

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(_url(Claim, "changelist"), {"q": world.member.member_number})

    # Same order as the unfiltered list (newest received first), from an expression claim_received_idx cannot
    # supply, so the planner finds the matches through their own indexes first.
    assert list(response.context["cl"].result_list) == [world.claim, older]
    listed = [
        q["sql"] for q in queries.captured_queries if "ORDER BY" in q["sql"] and "claims_claim" in q["sql"]
    ]
    assert listed and all(
        """ORDER BY ("claims_claim"."received_at" + '0:00:00'::interval) DESC, "claims_claim"."id" DESC"""
        in sql
        for sql in listed
    )


def test_claim_search_never_joins_member_or_provider_tables_in_its_where(
    admin_client: Client, world: World
) -> None:
    with CaptureQueriesContext(connection) as queries:
        admin_client.get(_url(Claim, "changelist"), {"q": "quimb"})

    claim_queries = [q["sql"] for q in queries.captured_queries if 'FROM "claims_claim"' in q["sql"]]
    assert claim_queries
    for sql in claim_queries:
        where = sql.split(" WHERE ", 1)[1]
        assert "members_member" not in where and "providers_provider" not in where, sql


def test_member_and_provider_searches(admin_client: Client, world: World) -> None:
    by_name = admin_client.get(_url(Member, "changelist"), {"q": "quimb"})
    assert list(by_name.context["cl"].result_list) == [world.member]
    by_number = admin_client.get(_url(Member, "changelist"), {"q": world.member.member_number})
    assert list(by_number.context["cl"].result_list) == [world.member]

    by_npi = admin_client.get(_url(Provider, "changelist"), {"q": world.provider.npi})
    assert list(by_npi.context["cl"].result_list) == [world.provider]
    by_name_part = admin_client.get(_url(Provider, "changelist"), {"q": "ollowel"})
    assert list(by_name_part.context["cl"].result_list) == [world.provider]


def test_claim_form_autocompletes_members_through_the_indexed_search(
    admin_client: Client, world: World
) -> None:
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"term": "quimb", "app_label": "claims", "model_name": "claim", "field_name": "member"},
    )

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(world.member.pk)]


def test_provider_name_search_reads_the_trigram_index(admin_client: Client, world: World) -> None:
    with CaptureQueriesContext(connection) as queries:
        admin_client.get(_url(Provider, "changelist"), {"q": "ollowel"})
    searched = [q["sql"] for q in queries.captured_queries if 'FROM "providers_provider"' in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")

    used = set().union(*(pgplan.declared_index_names(_explain_captured(sql)) for sql in searched))

    assert "provider_name_trgm_idx" in used


# --- PHI -------------------------------------------------------------------------------------------------------


def _staff_client(client: Client, django_user_model: Any, *codenames: str) -> Client:
    user = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="members", codename__in=codenames)
    )
    client.force_login(user)
    return client


def test_staff_without_pii_permission_does_not_see_pii(
    client: Client, django_user_model: Any, world: World
) -> None:
    # Change permission on MemberPII is not enough: seeing PHI needs the view permission itself.
    staff = _staff_client(client, django_user_model, "view_member", "change_member", "change_memberpii")

    response = staff.get(_url(Member, "change", world.member.pk))

    assert response.status_code == 200
    content = response.content.decode()
    assert world.member.member_number in content
    assert world.pii.ssn not in content and world.pii.phone not in content
    assert "member PII" not in content
    assert staff.get(_url(MemberPII, "changelist")).status_code == 403
    assert staff.get(_url(MemberPII, "change", world.pii.pk)).status_code == 403


def test_staff_with_pii_permission_sees_pii_masked(
    client: Client, django_user_model: Any, world: World
) -> None:
    staff = _staff_client(client, django_user_model, "view_member", "view_memberpii", "change_memberpii")

    for page in (_url(Member, "change", world.member.pk), _url(MemberPII, "change", world.pii.pk)):
        response = staff.get(page)
        assert response.status_code == 200
        content = response.content.decode()
        # Masked, also in the change page's inputs: the full values only through the audited reveal.
        assert "***-**-3456" in content and "***-***-0199" in content
        assert world.pii.ssn not in content and world.pii.phone not in content and "900123456" not in content


# --- examiner work: the queue, its actions, the claim page, groups and permissions ------------------------------

EXAMINERS, SUPERVISORS = "claims examiners", "claims supervisors"
EXAMINER_PERMISSIONS = {
    "claims.view_claim",
    "claims.view_claimline",
    "claims.view_claimstatushistory",
    "claims.view_workqueueclaim",
    "claims.examine_claim",
}


@pytest.fixture
def staff_groups() -> None:
    """The groups of claims/migrations/0013, made again when a transactional test's flush emptied auth_group."""
    if Group.objects.filter(name__in=[EXAMINERS, SUPERVISORS]).count() < 2:
        importlib.import_module("claims.migrations.0013_examiner_groups").create_groups(apps, None)


def _member_of(django_user_model: Any, username: str, group: str | None) -> Any:
    user = django_user_model.objects.create_user(username, password="x", is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def _client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def examiner(django_user_model: Any, staff_groups: None) -> Any:
    return _member_of(django_user_model, "examiner", EXAMINERS)


@pytest.fixture
def supervisor(django_user_model: Any, staff_groups: None) -> Any:
    return _member_of(django_user_model, "supervisor", SUPERVISORS)


@dataclass
class Queue:
    """Three pended claims of one plan (oldest first), and one decided claim that is not in the queue."""

    plan: HealthPlan
    claims: list[Claim]
    decided: Claim


@pytest.fixture
def queue(world: World) -> Queue:
    plan = world.plan
    # The world's member is enrolled in the plan and its provider in network; no deductible, so an approval pays.
    HealthPlan.objects.filter(pk=plan.pk).update(deductible=Decimal("0.00"))
    now = timezone.now()
    claims = []
    for days, (number, reason) in zip(
        (40, 12, 2),
        (
            ("Q-OLD", PendReason.HIGH_CHARGE),
            ("Q-MID", PendReason.UNLISTED),
            ("Q-NEW", PendReason.MODIFIER_22),
        ),
        strict=True,
    ):
        claim = ClaimFactory(
            claim_number=number,
            member=world.member,
            health_plan=plan,
            billing_provider=world.provider,
            status=ClaimStatus.PENDED,
            pend_reason=reason,
            received_at=now - dt.timedelta(days=days),
            total_charge=Decimal("300.00"),
            diagnosis_codes=["E119", "I10"],
        )
        ClaimLineFactory(claim=claim, line_number=1, procedure_code="99213", charge=Decimal("300.00"))
        claims.append(claim)
    decided = ClaimFactory(claim_number="Q-DONE", status=ClaimStatus.APPROVED, health_plan=plan)
    return Queue(plan, claims, decided)


def _token(claim: Claim, status: str | None = None) -> str:
    return f"{claim.pk}:{claim.service_date_from:%Y-%m-%d}:{status or claim.status}"


def _act(client: Client, action: str, claims: list[Claim], **data: Any) -> Any:
    """POST a queue action the way the changelist form (or an intermediate page, with ``apply``) sends it."""
    payload: dict[str, Any] = {
        "action": action,
        "_selected_action": [str(c.pk) for c in claims],
        "seen": [_token(c) for c in claims],
        **data,
    }
    if "apply" not in data:
        payload["index"] = "0"
    return client.post(_url(WorkQueueClaim, "changelist"), payload)


def _messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_groups_hold_the_least_permissions_their_work_needs(staff_groups: None) -> None:
    def perms(name: str) -> set[str]:
        return {
            f"{p.content_type.app_label}.{p.codename}"
            for p in Group.objects.get(name=name).permissions.select_related("content_type")
        }

    assert perms(EXAMINERS) == EXAMINER_PERMISSIONS
    assert perms(SUPERVISORS) == EXAMINER_PERMISSIONS | {"claims.override_decision"}


def test_work_queue_lists_pended_claims_oldest_first_with_reason_age_and_the_status_shown(
    examiner: Any, queue: Queue
) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = _client_for(examiner).get(_url(WorkQueueClaim, "changelist"))

    assert response.status_code == 200
    cl = response.context["cl"]
    assert [c.claim_number for c in cl.result_list] == ["Q-OLD", "Q-MID", "Q-NEW"]
    content = response.content.decode()
    assert "Charge above the plan&#x27;s review threshold" in content and "Unlisted procedure code" in content
    assert [cl.model_admin.age_days(c) for c in cl.result_list] == [40, 12, 2]
    # Each row carries the status it was drawn with, for the actions' compare-and-set.
    assert all(f'name="seen" value="{_token(c)}"' in content for c in queue.claims)
    assert "Q-DONE" not in content
    # The list is filtered, so it is counted, but never past the limit: no COUNT(*) over the whole table.
    counts = [q["sql"] for q in queries.captured_queries if COUNT_OVER_CLAIMS.search(q["sql"])]
    assert counts and all(f"LIMIT {EstimatedCountPaginator.exact_count_limit + 1}" in sql for sql in counts)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"pend_reason": PendReason.UNLISTED}, ["Q-MID"]),
        ({"age": "0-7"}, ["Q-NEW"]),
        ({"age": "8-30"}, ["Q-MID"]),
        ({"age": "31+"}, ["Q-OLD"]),
        ({"assignee": "me"}, ["Q-MID"]),
        ({"assignee": "none"}, ["Q-OLD", "Q-NEW"]),
    ],
)
def test_work_queue_filters(examiner: Any, queue: Queue, params: dict[str, str], expected: list[str]) -> None:
    Claim.objects.filter(pk=queue.claims[1].pk).update(assignee=examiner)

    response = _client_for(examiner).get(_url(WorkQueueClaim, "changelist"), params)

    assert response.status_code == 200
    assert [c.claim_number for c in response.context["cl"].result_list] == expected


def test_work_queue_plan_filter_offers_the_plans_without_reading_claims(examiner: Any, queue: Queue) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = _client_for(examiner).get(
            _url(WorkQueueClaim, "changelist"), {"health_plan__id__exact": str(queue.plan.pk)}
        )

    assert [c.claim_number for c in response.context["cl"].result_list] == ["Q-OLD", "Q-MID", "Q-NEW"]
    assert queue.plan.name in response.content.decode()
    assert not [q for q in queries.captured_queries if "DISTINCT" in q["sql"] and "claims_claim" in q["sql"]]


def test_examiner_assigns_claims_to_themself(examiner: Any, queue: Queue) -> None:
    response = _act(_client_for(examiner), "assign_to_me", queue.claims[:2])

    assert response.status_code == 302
    assigned = Claim.objects.filter(assignee=examiner).values_list("claim_number", flat=True)
    assert sorted(assigned) == ["Q-MID", "Q-OLD"]


def test_examiner_approves_a_claim_and_the_engine_prices_it(examiner: Any, queue: Queue) -> None:
    response = _act(_client_for(examiner), "approve", [queue.claims[0]])

    assert response.status_code == 302
    claim = Claim.objects.get(pk=queue.claims[0].pk)
    assert claim.status == ClaimStatus.APPROVED and claim.total_paid > 0
    assert ClaimStatusHistory.objects.filter(claim_id=claim.pk, changed_by=examiner).exists()


def test_deny_goes_through_a_form_that_requires_a_carc(examiner: Any, queue: Queue) -> None:
    client, claim = _client_for(examiner), queue.claims[0]

    page = _act(client, "deny", [claim])
    assert page.status_code == 200
    content = page.content.decode()
    assert "50 — Not deemed a medical necessity by the payer" in content  # the CARC select: code and meaning
    assert f'name="seen" value="{_token(claim)}"' in content

    missing = _act(client, "deny", [claim], apply="Deny claims", carc="", note="")
    assert missing.status_code == 200
    assert missing.context["form"].errors["carc"] == ["Choose the CARC that says why the claims are denied."]
    assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.PENDED

    done = _act(client, "deny", [claim], apply="Deny claims", carc="50", rarc="N115", note="")
    assert done.status_code == 302
    claim.refresh_from_db()
    assert (claim.status, claim.denial_reason_code) == (ClaimStatus.DENIED, "50")
    assert "Denied 1 claim(s) with CARC 50" in " ".join(_messages(done))


def test_pend_goes_through_a_form_with_the_reason(examiner: Any, queue: Queue) -> None:
    client, claim = _client_for(examiner), queue.claims[0]

    done = _act(client, "pend", [claim], apply="Pend claims", reason=PendReason.REVIEW, note="")

    assert done.status_code == 302
    assert Claim.objects.get(pk=claim.pk).pend_reason == PendReason.REVIEW


def test_readjudicate_sends_claims_back_through_the_engine(examiner: Any, queue: Queue) -> None:
    response = _act(_client_for(examiner), "readjudicate", [queue.claims[1]])

    assert response.status_code == 302
    # Its pend reason was set by hand here; the engine finds nothing to pend for and prices it.
    claim = Claim.objects.get(pk=queue.claims[1].pk)
    assert (claim.status, claim.pend_reason) == (ClaimStatus.APPROVED, "")
    assert "Re-adjudicated 1 claim(s): 1 approved" in " ".join(_messages(response))


def test_a_claim_that_moved_since_the_page_was_shown_is_named_and_nothing_changes(
    examiner: Any, queue: Queue
) -> None:
    client = _client_for(examiner)
    stale = queue.claims[0]
    # Another examiner denied it after this examiner's page was drawn (still showing "pended").
    Claim.objects.filter(pk=stale.pk).update(status=ClaimStatus.DENIED, denial_reason_code="18")

    response = _act(
        client, "deny", [stale, queue.claims[1]], apply="Deny claims", carc="50", rarc="", note=""
    )

    assert response.status_code == 302
    message = " ".join(_messages(response))
    assert "Nothing was changed" in message and "Q-OLD" in message
    assert Claim.objects.get(pk=queue.claims[1].pk).status == ClaimStatus.PENDED
    assert not ClaimAdjustment.objects.exists()


def test_staff_without_the_examiner_permission_get_403_on_the_actions(
    django_user_model: Any, queue: Queue
) -> None:
    plain = _member_of(django_user_model, "plain", None)
    viewer = _member_of(django_user_model, "viewer", None)
    viewer.user_permissions.set(
        Permission.objects.filter(content_type__app_label="claims", codename="view_workqueueclaim")
    )

    assert _client_for(plain).get(_url(WorkQueueClaim, "changelist")).status_code == 403
    for user in (plain, viewer):
        for action in ("assign_to_me", "approve", "deny", "pend", "readjudicate"):
            assert _act(_client_for(user), action, queue.claims[:1]).status_code == 403, (user, action)
    # The viewer may look at the queue, and is offered no action.
    listed = _client_for(viewer).get(_url(WorkQueueClaim, "changelist"))
    assert listed.status_code == 200 and listed.context["action_form"] is None
    assert Claim.objects.filter(status=ClaimStatus.PENDED).count() == 3


def _decided(claim: Claim, status: str, carc: str = "") -> Claim:
    Claim.objects.filter(pk=claim.pk).update(status=status, denial_reason_code=carc, pend_reason="")
    claim.refresh_from_db()
    return claim


def test_supervisor_overrides_a_denial_and_an_examiner_cannot(
    examiner: Any, supervisor: Any, queue: Queue
) -> None:
    claim = _decided(queue.claims[0], ClaimStatus.DENIED, "50")
    override = reverse("admin:claims_claim_override", args=[claim.pk])

    # The examiner is offered no override and is refused one.
    assert override not in _client_for(examiner).get(_url(Claim, "change", claim.pk)).content.decode()
    assert _client_for(examiner).get(override).status_code == 403
    assert _client_for(examiner).post(override, {"seen": _token(claim)}).status_code == 403

    client = _client_for(supervisor)
    assert override in client.get(_url(Claim, "change", claim.pk)).content.decode()
    form = client.get(override)
    assert form.status_code == 200 and f'value="{_token(claim)}"' in form.content.decode()
    no_reason = client.post(override, {"to_status": "approved", "seen": _token(claim), "reason": ""})
    assert no_reason.status_code == 200 and "reason" in no_reason.context["form"].errors

    done = client.post(
        override, {"to_status": "approved", "seen": _token(claim), "reason": "records received"}
    )

    assert done.status_code == 302
    claim.refresh_from_db()
    assert (claim.status, claim.denial_reason_code) == (ClaimStatus.APPROVED, "")
    history = ClaimStatusHistory.objects.get(claim_id=claim.pk, to_status=ClaimStatus.APPROVED)
    assert (history.source, history.changed_by_id, history.note) == (
        "supervisor",
        supervisor.pk,
        "override: records received",
    )


def test_override_to_denied_needs_a_carc(supervisor: Any, queue: Queue) -> None:
    claim = _decided(queue.claims[0], ClaimStatus.APPROVED)
    override = reverse("admin:claims_claim_override", args=[claim.pk])

    response = _client_for(supervisor).post(
        override, {"to_status": "denied", "seen": _token(claim), "reason": "appeal lost", "carc": ""}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["carc"] == ["A denial needs a CARC."]
    assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.APPROVED


def test_claim_page_is_read_only_and_shows_the_decision_codes_and_titles(
    admin_client: Client, examiner: Any, queue: Queue
) -> None:
    claim = queue.claims[0]
    _act(_client_for(examiner), "deny", [claim], apply="Deny claims", carc="50", rarc="M76", note="")

    # A superuser, who may change claims: the fields as sent are read-only even so.
    response = admin_client.get(_url(Claim, "change", claim.pk))

    assert response.status_code == 200
    content = response.content.decode()
    assert "50 — Not deemed a medical necessity by the payer" in content
    # Per line: the CAS entry with its CARC's description, and the balance.
    assert "CO-50 (M76)" in content and "300.00" in content and "balances" in content
    # Diagnoses with the dot and the ICD-10-CM title.
    assert "E11.9" in content and "Type 2 diabetes mellitus without complications" in content
    assert "Essential (primary) hypertension" in content
    # Nothing as sent is editable: no input for the claim's own fields.
    assert response.context["adminform"].form.fields == {}
    assert "id_claim_number" not in content


def test_member_details_on_the_claim_page_and_list_need_the_pii_permission(
    admin_client: Client, examiner: Any, queue: Queue, world: World
) -> None:
    claim = queue.claims[0]
    as_examiner = _client_for(examiner)

    page = as_examiner.get(_url(Claim, "change", claim.pk)).content.decode()
    listed = as_examiner.get(_url(Claim, "changelist")).content.decode()

    assert "Quimbley" not in page and "Member (PHI)" not in page and "Quimbley" not in listed
    assert world.member.member_number in page and world.member.member_number in listed
    page = admin_client.get(_url(Claim, "change", claim.pk)).content.decode()
    assert "Quimbley, Ada" in page and world.member.date_of_birth.isoformat() in page
    assert world.plan.name in page  # the eligibility span's plan
    assert "Quimbley, Ada" in admin_client.get(_url(Claim, "changelist")).content.decode()


def test_claim_page_links_its_batch_with_the_999_outcome_and_the_batch_page_links_its_claims(
    admin_client: Client, world: World
) -> None:
    page = admin_client.get(_url(Claim, "change", world.claim.pk)).content.decode()
    assert "acme_20261101.837" in page and "999: Accepted (A)" in page and "Not remitted yet" in page

    batch_page = admin_client.get(_url(IngestBatch, "change", world.batch.pk)).content.decode()
    # Every service month: a batch's claims can be of any month.
    claims_url = f"{_url(Claim, 'changelist')}?batch={world.batch.pk}&service_month=all"
    assert claims_url.replace("&", "&amp;") in batch_page
    listed = admin_client.get(claims_url)
    assert list(listed.context["cl"].result_list) == [world.claim]


def test_claims_list_filters_take_their_choices_without_reading_claims(
    admin_client: Client, world: World
) -> None:
    claims_status_change(
        changes=[
            StatusChange(
                world.other_claim.pk,
                world.other_claim.service_date_from,
                ClaimStatus.RECEIVED,
                ClaimStatus.DENIED,
                denial_reason_code="96",
            )
        ],
        source=StatusSource.ADJUDICATION,
    )
    month = f"{world.claim.service_date_from:%Y-%m}"

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(_url(Claim, "changelist"))
    filters = {spec.title: spec for spec in response.context["cl"].filter_specs}

    assert {"health plan", "service month", "denial CARC", "batch", "assignee"} <= set(filters)
    assert not [q for q in queries.captured_queries if "DISTINCT" in q["sql"] and "claims_claim" in q["sql"]]
    by_carc = admin_client.get(_url(Claim, "changelist"), {"carc": "96"})
    assert list(by_carc.context["cl"].result_list) == [world.other_claim]
    by_month = admin_client.get(_url(Claim, "changelist"), {"service_month": month})
    assert len(by_month.context["cl"].result_list) == 2
    by_plan = admin_client.get(_url(Claim, "changelist"), {"health_plan__id__exact": str(world.plan.pk)})
    assert list(by_plan.context["cl"].result_list) == [world.claim]
    columns = [c for c in response.context["cl"].list_display if c != "action_checkbox"]
    assert columns == [
        "claim_number",
        "status",
        "member_name",
        "health_plan",
        "total_charge",
        "total_paid",
        "received_at",
    ]
