"""Adjudication, examiner actions, the work queue and 835s, timed inside one transaction that is rolled back.

The adjudicate section runs first and commits; everything after it runs in a single ``transaction.atomic()`` that
ends with an exception, so the database is left as the adjudicate section left it (sequences aside):

* **adjudicate** (committed, as production runs it): ``claims`` decided claims (approved or denied, not remitted)
  of the latest full months, newest service first, are set back to "validated" (CARC, paid, allowed, patient
  responsibility, pend reason, edits cleared; the deductible their CAS rows spent given back to the members'
  accumulators; their ``ClaimAdjustment`` rows deleted; their lines' allowed, paid and decision cleared), the
  claim, line and adjustment tables vacuumed, then ``claims_adjudicate_parallel`` decides every validated claim
  on file with one worker process per CPU (the ``adjudicate`` command's default); claims/s of that call. It
  cannot run inside the rolled-back transaction: worker processes would not see its uncommitted rows. The
  claims end decided by the engine, as they were (the synthetic history is the engine's own decisions).
* **generate_835**: the 835s of the claims just decided. ``remittances_generate`` would take every decided,
  unremitted claim on file (the whole synthetic history), so the run is narrowed to the benchmark's claims:
  the same per-payee path (``claims.services.remittance._remit_group``: take FOR UPDATE SKIP LOCKED, balance,
  write with the 835 writer, store the ``Remittance``, mark the claims; one savepoint and the cycle's advisory
  lock per payee) over the (plan, billing provider) groups of those claims, its claim query restricted to
  them. Payees without a 9-digit tax id (synthetic providers) get a placeholder one, counted. A group whose
  file the writer refuses all the same (``ValueError``), which would stop ``remittances_generate``'s cycle, is
  rolled back to its savepoint, counted and reported, and the next group written. Then pyx12 validation
  (``validate_835``) of the files with the most claims (``VALIDATE_FILES``), claims/s.
* **examiner**: ``actions`` claims not among the above are made pended (pend reason "review", their
  decision cleared as above), then ``claims_deny`` and ``claims_approve`` each on ``actions`` single claims,
  ms per call.
* **work queue**: the admin changelist ``/admin/claims/workqueueclaim/`` through the test client as a
  superuser, with the claims pended above (and any already pended) in the queue.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from django.contrib.auth import get_user_model
from django.db import connections, transaction
from django.db.models import Max
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from claims.adjudication.edits import PendReason
from claims.lifecycle import ClaimStatus
from claims.models import (
    AdjudicationRun,
    Claim,
    ClaimAdjustment,
    ClaimLine,
    ClaimStatusHistory,
    RemittanceRun,
)
from claims.services import remittance as remittance_service
from claims.services.adjudication import CHUNK, claims_adjudicate_parallel
from claims.services.examiner import SeenClaim, claims_approve, claims_deny
from claims.services.lifecycle import month_counts_rebuild
from claims.x12.validation835 import validate_835
from members.models import HealthPlan, MemberAccumulator
from ops.benchmark.pages import superuser_client
from ops.benchmark.params import BenchParams, add_months
from ops.benchmark.stats import Timing
from ops.platform import locks
from providers.models import Provider

Log = Callable[[str], None]

CLAIM_TABLE = Claim._meta.db_table
LINE_TABLE = ClaimLine._meta.db_table
ADJUSTMENT_TABLE = ClaimAdjustment._meta.db_table
ACCUMULATOR_TABLE = MemberAccumulator._meta.db_table
HISTORY_TABLE = ClaimStatusHistory._meta.db_table
WORK_QUEUE_URL_NAME = "admin:claims_workqueueclaim_changelist"
DECIDED = (ClaimStatus.APPROVED.value, ClaimStatus.DENIED.value)
# How far back from the latest full month the decided claims are looked for.
LOOKBACK_MONTHS = 12
# The 835s validated through pyx12: the files with the most claims, up to this many.
VALIDATE_FILES = 5
DENY_CARC = "50"  # not medically necessary
_RESULT_TBODY = re.compile(rb'<table id="result_list">.*?<tbody>(.*?)</tbody>', re.DOTALL)


class DecisionsError(Exception):
    """A step did not do what it must (a page not 200, no claims to work on)."""


@dataclass(frozen=True)
class AdjudicateBench:
    claims: int  # set back to validated
    decided: int  # decided by claims_adjudicate
    seconds: float
    claims_per_second: float
    outcomes: dict[str, int]  # status -> claims
    chunk: int
    workers: int  # processes side by side (claims_adjudicate_parallel)
    first_day: str  # service dates of the claims
    last_day: str


@dataclass(frozen=True)
class RemitBench:
    files: int
    claims: int  # remitted
    left_out: int  # decided but not balanced (left unremitted)
    placeholder_tax_ids: int  # payees without a 9-digit tax id given one for the run (rolled back)
    refused_groups: int  # payer/payee groups the 835 writer refused (ValueError: a payee's tax id, ...)
    refused_claims: int  # their claims
    refusal: str  # the first refusal's message
    seconds: float
    claims_per_second: float
    validate_files: int
    validate_claims: int
    validate_seconds: float
    validate_claims_per_second: float
    validate_outcome: str  # "accepted" when every file was; else outcome counts


@dataclass(frozen=True)
class ExaminerBench:
    actions: int  # per action kind
    deny: Timing
    approve: Timing
    approve_outcomes: dict[str, int]


@dataclass(frozen=True)
class WorkQueueBench:
    url: str
    request: Timing
    rows: int  # rows listed on the page
    pended: int  # pended claims in the queue while timed


@dataclass
class DecisionsBench:
    adjudicate: AdjudicateBench | None = None
    remit: RemitBench | None = None
    examiner: ExaminerBench | None = None
    work_queue: WorkQueueBench | None = None
    notes: dict[str, str] = field(default_factory=dict)  # section -> why it did not run
    rolled_back: bool = False


class _Rollback(Exception):
    """Ends the benchmark's transaction."""


def _rate(claims: int, seconds: float) -> float:
    return round(claims / seconds, 1) if seconds > 0 else 0.0


def pick_decided(
    params: BenchParams, limit: int, *, exclude: Sequence[int] = (), using: str = "default"
) -> list[tuple[int, dt.date]]:
    """Up to ``limit`` decided, unremitted claims of the ``LOOKBACK_MONTHS`` up to the latest full month,
    newest service first: (id, service date from)."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            # The exclusion as an anti-join: ``NOT id = ANY(<parameter>)`` compares every candidate with every
            # excluded id (not hashed for a parameter), and at 10,000,000 claims (4,000,000 candidates, 147,000
            # excluded) ran for over 7 minutes before it was cancelled.
            f"SELECT c.id, c.service_date_from FROM {CLAIM_TABLE} c WHERE c.service_date_from >= %s "
            f"AND c.service_date_from < %s AND c.status = ANY(%s) AND c.remittance_id IS NULL "
            f"AND NOT EXISTS (SELECT 1 FROM unnest(%s::bigint[]) x(id) WHERE x.id = c.id) "
            f"ORDER BY c.service_date_from DESC, c.id DESC LIMIT %s",
            [
                add_months(params.period_end, -LOOKBACK_MONTHS),
                params.period_end,
                list(DECIDED),
                list(exclude),
                limit,
            ],
        )
        return [(row[0], row[1]) for row in cursor.fetchall()]


def reset_claims(
    keys: Sequence[tuple[int, dt.date]], *, status: str, pend_reason: str = "", using: str = "default"
) -> None:
    """Put claims back as they were before a decision, in ``status``: the decision's fields on the claim cleared,
    their CAS rows deleted, their lines' allowed, paid and decision cleared. For the rolled-back transaction."""
    ids = [cid for cid, _ in keys]
    days = sorted({sdf for _, sdf in keys})
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"UPDATE {CLAIM_TABLE} SET status = %s, pend_reason = %s, denial_reason_code = '', total_paid = 0, "
            f"allowed = 0, patient_responsibility = 0, edits = '{{}}', processing_ms = NULL, assignee_id = NULL "
            f"WHERE id = ANY(%s) AND service_date_from = ANY(%s)",
            [status, pend_reason, ids, days],
        )
        cursor.execute(f"DELETE FROM {ADJUSTMENT_TABLE} WHERE claim_id = ANY(%s)", [ids])
        cursor.execute(
            f"UPDATE {LINE_TABLE} SET allowed = 0, paid = 0, decision = '' "
            f"WHERE claim_id = ANY(%s) AND service_date_from = ANY(%s)",
            [ids, days],
        )
    # The statuses were written here, not through the lifecycle: count the months again, or adjudication and the
    # work queue, which read only the months holding their claims, would not see these.
    month_counts_rebuild(using=using)


def _adjudicate(keys: Sequence[tuple[int, dt.date]], using: str) -> tuple[AdjudicateBench, list[int]]:
    """Reset the decided claims ``keys`` to validated (committed) and time ``claims_adjudicate_parallel``
    deciding every validated claim on file. The caller restores them (``_Snapshot.restore``)."""
    with transaction.atomic(using=using):
        _return_deductibles(keys, using=using)
        reset_claims(keys, status=ClaimStatus.VALIDATED, using=using)
    if not connections[using].in_atomic_block:
        with connections[using].cursor() as cursor:
            # The reset left a dead version of every row it touched; production's validated claims have had
            # theirs vacuumed by the time a run decides them.
            cursor.execute(f"VACUUM (ANALYZE) {CLAIM_TABLE}, {LINE_TABLE}, {ADJUSTMENT_TABLE}")
    workers = os.cpu_count() or 1
    result = claims_adjudicate_parallel(workers=workers, trigger="benchmark")
    days = sorted(sdf for _, sdf in keys)
    return (
        AdjudicateBench(
            claims=len(keys),
            decided=result.claims,
            seconds=round(result.seconds, 3),
            claims_per_second=_rate(result.claims, result.seconds),
            outcomes=dict(sorted(result.decided.items())),
            chunk=CHUNK,
            workers=workers,
            first_day=days[0].isoformat(),
            last_day=days[-1].isoformat(),
        ),
        [cid for cid, _ in keys],
    )


class _Snapshot:
    """The rows the committed adjudicate section changes, copied aside first and put back after: the claims it
    resets and every claim already validated (the run decides those too), their lines and CAS rows, all
    accumulators; the history rows and adjudication runs it adds are deleted again. Kept in unlogged tables (the
    worker processes close the connection a temporary table would live in)."""

    TABLES = ("bench_snap_claim", "bench_snap_line", "bench_snap_adjustment", "bench_snap_accumulator")

    def __init__(self, keys: Sequence[tuple[int, dt.date]], using: str) -> None:
        self.using = using
        self.keys = list(keys)
        with connections[using].cursor() as cursor:
            cursor.execute(
                f"SELECT id, service_date_from FROM {CLAIM_TABLE} WHERE status = %s", [ClaimStatus.VALIDATED]
            )
            validated = cursor.fetchall()
        self.ids = sorted({cid for cid, _ in keys} | {cid for cid, _ in validated})
        self.days = sorted({sdf for _, sdf in keys} | {sdf for _, sdf in validated})
        self.history_max = ClaimStatusHistory.objects.using(using).aggregate(m=Max("id"))["m"] or 0
        self.run_max = AdjudicationRun.objects.using(using).aggregate(m=Max("id"))["m"] or 0
        self.drop()
        on_claims = "id = ANY(%s) AND service_date_from = ANY(%s)"
        with connections[using].cursor() as cursor:
            for table, source, where in (
                ("bench_snap_claim", CLAIM_TABLE, on_claims),
                ("bench_snap_line", LINE_TABLE, on_claims.replace("id =", "claim_id =", 1)),
                (
                    "bench_snap_adjustment",
                    ADJUSTMENT_TABLE,
                    "claim_id = ANY(%s) AND claim_service_date_from = ANY(%s)",
                ),
                (
                    "bench_snap_accumulator",
                    ACCUMULATOR_TABLE,
                    "%s::bigint[] IS NOT NULL AND %s::date[] IS NOT NULL",
                ),
            ):
                cursor.execute(
                    f"CREATE UNLOGGED TABLE {table} AS SELECT * FROM {source} WHERE {where}",
                    [self.ids, self.days],
                )

    def restore(self) -> None:
        """Put every snapshotted row back as it was, in one transaction, then drop the snapshot."""
        keys = [self.ids, self.days]
        decision = (
            "status, denial_reason_code, total_paid, allowed, patient_responsibility, pend_reason, edits, "
            "processing_ms, processed_at, assignee_id"
        )
        with transaction.atomic(using=self.using), connections[self.using].cursor() as cursor:
            cursor.execute(
                f"UPDATE {CLAIM_TABLE} AS c SET ({decision}) = ({', '.join('s.' + c for c in decision.split(', '))}) "
                f"FROM bench_snap_claim s WHERE c.id = s.id AND c.service_date_from = s.service_date_from "
                f"AND c.id = ANY(%s) AND c.service_date_from = ANY(%s)",
                keys,
            )
            cursor.execute(
                f"UPDATE {LINE_TABLE} AS l SET allowed = s.allowed, paid = s.paid, decision = s.decision "
                f"FROM bench_snap_line s WHERE l.id = s.id AND l.service_date_from = s.service_date_from "
                f"AND l.claim_id = ANY(%s) AND l.service_date_from = ANY(%s)",
                keys,
            )
            cursor.execute(
                f"DELETE FROM {ADJUSTMENT_TABLE} WHERE claim_id = ANY(%s) AND claim_service_date_from = ANY(%s)",
                keys,
            )
            cursor.execute(f"INSERT INTO {ADJUSTMENT_TABLE} SELECT * FROM bench_snap_adjustment")
            cursor.execute(f"DELETE FROM {ACCUMULATOR_TABLE}")
            cursor.execute(f"INSERT INTO {ACCUMULATOR_TABLE} SELECT * FROM bench_snap_accumulator")
            cursor.execute(f"DELETE FROM {HISTORY_TABLE} WHERE id > %s", [self.history_max])
            AdjudicationRun.objects.using(self.using).filter(id__gt=self.run_max).delete()
            month_counts_rebuild(using=self.using)  # the statuses put back as found, counted as found
        self.drop()

    def drop(self) -> None:
        with connections[self.using].cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {', '.join(self.TABLES)}")


def _return_deductibles(keys: Sequence[tuple[int, dt.date]], *, using: str) -> None:
    """Take the deductible (PR-1) the claims' CAS rows spent off their members' accumulators, as a supervisor's
    reversal does, so that deciding them again spends it again rather than twice."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {ACCUMULATOR_TABLE} AS a SET deductible_met = GREATEST(a.deductible_met - s.spent, 0)
            FROM (SELECT c.member_id, c.health_plan_id, EXTRACT(YEAR FROM c.service_date_from)::int AS y,
                         SUM(j.amount) AS spent
                  FROM {CLAIM_TABLE} c JOIN {ADJUSTMENT_TABLE} j ON j.claim_id = c.id
                  WHERE c.id = ANY(%s) AND c.service_date_from = ANY(%s) AND j.group_code = 'PR' AND j.carc = '1'
                  GROUP BY 1, 2, 3) AS s
            WHERE a.member_id = s.member_id AND a.plan_id = s.health_plan_id AND a.plan_year = s.y
            """,
            [[cid for cid, _ in keys], sorted({sdf for _, sdf in keys})],
        )


# Claims the 835 step remits: enough for a stable rate, few enough to keep the whole benchmark short.
REMIT_CLAIMS = 20_000


def _remit(ids: Sequence[int], workdir: Path, using: str) -> RemitBench:
    """The 835s of the claims ``ids`` (those decided): the per-payee path of ``remittances_generate``, its claim
    query restricted to them and no reversals (none of them was remitted before)."""
    out_dir = workdir / "835"
    with connections[using].cursor() as cursor:
        # Synthetic providers can have no tax id, which the writer refuses (1000B REF*TJ is required): within
        # this rolled-back transaction they get a placeholder (the NPI's last 9 digits), counted in the report.
        cursor.execute(
            f"UPDATE {Provider._meta.db_table} SET tax_id = right(npi, 9) WHERE tax_id !~ '^[0-9]{{9}}$' "
            f"AND npi ~ '^[0-9]{{9,}}$' AND id IN (SELECT billing_provider_id FROM {CLAIM_TABLE} WHERE id = ANY(%s))",
            [list(ids)],
        )
        placeholders = cursor.rowcount
    started = time.perf_counter()
    by_group: dict[tuple[int, int], list[int]] = defaultdict(list)
    for cid, plan_id, provider_id in (
        Claim.objects.using(using)
        .filter(id__in=list(ids), remittance__isnull=True, status__in=list(DECIDED))
        .values_list("id", "health_plan_id", "billing_provider_id")
    ):
        by_group[(plan_id, provider_id)].append(cid)
    groups = sorted(by_group)
    plans = HealthPlan.objects.using(using).in_bulk({p for p, _ in groups})
    providers = Provider.objects.using(using).in_bulk({b for _, b in groups})

    def take_ours(plan_id: int, provider_id: int) -> list[Any]:
        # remittance._take, with "id = ANY(...)" added: only this benchmark's claims of the group.
        with connections[using].cursor() as cursor:
            cursor.execute(
                f"SELECT {remittance_service._COLUMNS} FROM {CLAIM_TABLE} "
                f"WHERE id = ANY(%s) AND health_plan_id = %s AND billing_provider_id = %s "
                f"AND remittance_id IS NULL AND status = ANY(%s) ORDER BY id FOR UPDATE SKIP LOCKED",
                [by_group[(plan_id, provider_id)], plan_id, provider_id, list(DECIDED)],
            )
            return [remittance_service._Claim(*row) for row in cursor.fetchall()]

    run = RemittanceRun.objects.using(using).create(
        started_at=timezone.now(), payment_date=timezone.now().date()
    )
    files = claims = left_out = refused = refused_claims = 0
    first_refusal = ""
    paths: list[tuple[Path, int]] = []
    with (
        mock.patch.object(remittance_service, "_take", take_ours),
        mock.patch.object(remittance_service, "_take_reversals", lambda plan_id, provider_id: []),
    ):
        for index, (plan_id, provider_id) in enumerate(groups, start=1):
            try:
                with transaction.atomic(using=using):
                    locks.xact_lock(remittance_service.LOCK, timeout="30s", using=using)
                    group_result = remittance_service._remit_group(
                        run,
                        plans[plan_id],
                        providers[provider_id],
                        index=index,
                        method="CHK",
                        out_dir=out_dir,
                    )
            except ValueError as exc:
                # The writer refused a value of the payee or payer (remittances_generate would stop the cycle
                # here): counted and reported, the group's savepoint rolled back, the next group written.
                refused += 1
                refused_claims += len(by_group[(plan_id, provider_id)])
                first_refusal = first_refusal or str(exc)
                continue
            written, skipped = group_result[0], group_result[1]
            left_out += skipped
            if written is not None:
                files += 1
                claims += written.claims
                paths.append((out_dir / written.file_name, written.claims))
    seconds = time.perf_counter() - started

    # The files with the most claims: per-file start-up weighs least on the claims/s.
    chosen = sorted(paths, key=lambda item: -item[1])[:VALIDATE_FILES]
    outcomes: Counter[str] = Counter()
    validate_started = time.perf_counter()
    for path, _ in chosen:
        outcomes[validate_835(path).outcome] += 1
    validate_seconds = time.perf_counter() - validate_started
    validate_claims = sum(count for _, count in chosen)
    outcome = (
        "accepted"
        if set(outcomes) == {"accepted"}
        else ", ".join(f"{name} {count}" for name, count in sorted(outcomes.items())) or "nothing to validate"
    )
    return RemitBench(
        files=files,
        claims=claims,
        left_out=left_out,
        placeholder_tax_ids=placeholders,
        refused_groups=refused,
        refused_claims=refused_claims,
        refusal=first_refusal,
        seconds=round(seconds, 3),
        claims_per_second=_rate(claims, seconds),
        validate_files=len(chosen),
        validate_claims=validate_claims,
        validate_seconds=round(validate_seconds, 3),
        validate_claims_per_second=_rate(validate_claims, validate_seconds),
        validate_outcome=outcome,
    )


def _examiner(keys: Sequence[tuple[int, dt.date]], actions: int, using: str) -> ExaminerBench:
    deny_keys, approve_keys = keys[:actions], keys[actions : 2 * actions]
    actor = (
        get_user_model()
        .objects.db_manager(using)
        .create_user(username=f"benchmark-examiner-{time.monotonic_ns()}", password=None, is_staff=True)
    )
    deny_ms: list[float] = []
    for cid, sdf in deny_keys:
        started = time.perf_counter()
        claims_deny(claims=[SeenClaim(cid, sdf, ClaimStatus.PENDED)], actor=actor, carc=DENY_CARC)
        deny_ms.append((time.perf_counter() - started) * 1000)
    approve_ms: list[float] = []
    outcomes: Counter[str] = Counter()
    for cid, sdf in approve_keys:
        started = time.perf_counter()
        result = claims_approve(claims=[SeenClaim(cid, sdf, ClaimStatus.PENDED)], actor=actor)
        approve_ms.append((time.perf_counter() - started) * 1000)
        outcomes.update(result.decided)
    return ExaminerBench(
        actions=min(len(deny_ms), len(approve_ms)),
        deny=Timing.of(deny_ms),
        approve=Timing.of(approve_ms),
        approve_outcomes=dict(sorted(outcomes.items())),
    )


def _listed_rows(content: bytes) -> int:
    """Rows in the changelist's result table."""
    match = _RESULT_TBODY.search(content)
    return len(re.findall(rb"<tr.*?</tr>", match.group(1), re.DOTALL)) if match else 0


def _work_queue(client: Client, *, iterations: int, warmup: int, using: str) -> WorkQueueBench:
    url = reverse(WORK_QUEUE_URL_NAME)

    def get() -> bytes:
        response = client.get(url)
        if response.status_code != 200:
            raise DecisionsError(f"the work queue answered HTTP {response.status_code}")
        return response.content

    for _ in range(warmup):
        get()
    samples: list[float] = []
    content = b""
    for _ in range(iterations):
        started = time.perf_counter()
        content = get()
        samples.append((time.perf_counter() - started) * 1000)
    pended = Claim.objects.using(using).filter(status=ClaimStatus.PENDED).count()
    return WorkQueueBench(url=url, request=Timing.of(samples), rows=_listed_rows(content), pended=pended)


@contextmanager
def _rolled_back(using: str) -> Iterator[DecisionsBench]:
    bench = DecisionsBench()
    try:
        with transaction.atomic(using=using):
            yield bench
            raise _Rollback
    except _Rollback:
        bench.rolled_back = True


def run_decisions(
    params: BenchParams,
    *,
    adjudicate: bool = True,
    remit: bool = True,
    examiner: bool = True,
    work_queue: bool = True,
    adjudicate_claims: int = 100_000,
    actions: int = 20,
    iterations: int = 30,
    warmup: int = 3,
    using: str = "default",
    log: Log = lambda message: None,
) -> DecisionsBench:
    """Time the sections asked for (module docstring): adjudicate committed, the rest in one transaction rolled
    back at the end.

    Raises ``DecisionsError`` when the work queue does not answer 200 or there are no claims to adjudicate.
    """
    snapshot: _Snapshot | None = None
    if adjudicate:
        keys = pick_decided(params, adjudicate_claims, using=using)
        if not keys:
            raise DecisionsError("no decided, unremitted claims in the latest months to adjudicate")
        snapshot = _Snapshot(keys, using)
    try:
        return _run_decisions(
            params,
            snapshot=snapshot,
            remit=remit,
            examiner=examiner,
            work_queue=work_queue,
            adjudicate_claims=adjudicate_claims,
            actions=actions,
            iterations=iterations,
            warmup=warmup,
            using=using,
            log=log,
        )
    finally:
        if snapshot is not None:
            snapshot.restore()
            log("adjudicate: the claims it decided are restored as they were")


def _run_decisions(
    params: BenchParams,
    *,
    snapshot: _Snapshot | None,
    remit: bool,
    examiner: bool,
    work_queue: bool,
    adjudicate_claims: int,
    actions: int,
    iterations: int,
    warmup: int,
    using: str,
    log: Log,
) -> DecisionsBench:
    adjudicate = snapshot is not None
    adjudicated: AdjudicateBench | None = None
    decided_ids: list[int] = []
    if adjudicate:
        assert snapshot is not None
        adjudicated, decided_ids = _adjudicate(snapshot.keys, using)
        a = adjudicated
        log(
            f"adjudicate: {a.decided:,} claims in {a.seconds:.1f} s ({a.claims_per_second:,.0f} claims/s, "
            f"{a.workers} workers): "
            + ", ".join(f"{status} {count:,}" for status, count in a.outcomes.items())
        )
    with _rolled_back(using) as bench, tempfile.TemporaryDirectory(prefix="bench_835_") as tmp:
        bench.adjudicate = adjudicated
        if not adjudicate:
            bench.notes["adjudicate"] = "skipped (--skip-adjudicate)"
        if remit and decided_ids:
            # The first REMIT_CLAIMS of them: the per-payee path writes a file per (plan, payee) group, about
            # 1.8 claims a file here, so 100,000 claims took over 20 minutes (measured) for the same rate.
            bench.remit = _remit(sorted(decided_ids)[:REMIT_CLAIMS], Path(tmp), using)
            r = bench.remit
            log(
                f"generate_835: {r.files:,} files, {r.claims:,} claims in {r.seconds:.1f} s "
                f"({r.claims_per_second:,.0f} claims/s); pyx12 {r.validate_claims_per_second:,.0f} claims/s, "
                f"{r.validate_outcome}"
            )
        elif remit:
            bench.notes["remit"] = "not run: it remits the claims the adjudicate section decided (skipped)"
        else:
            bench.notes["remit"] = "skipped (--skip-835)"
        pend_keys: list[tuple[int, dt.date]] = []
        if examiner or work_queue:
            pend_keys = pick_decided(params, 2 * actions, exclude=decided_ids, using=using)
            reset_claims(pend_keys, status=ClaimStatus.PENDED, pend_reason=PendReason.REVIEW, using=using)
        if work_queue:
            # The savepoint: a failing page aborts it, not the transaction the client's logout then runs in.
            with superuser_client(using=using) as client, transaction.atomic(using=using):
                bench.work_queue = _work_queue(client, iterations=iterations, warmup=warmup, using=using)
            w = bench.work_queue
            log(
                f"work queue: p50 {w.request.p50_ms} ms, p95 {w.request.p95_ms} ms, "
                f"{w.rows} rows listed, {w.pended:,} pended"
            )
        else:
            bench.notes["work_queue"] = "skipped (--skip-work-queue)"
        if examiner and len(pend_keys) >= 2:
            bench.examiner = _examiner(pend_keys, min(actions, len(pend_keys) // 2), using)
            e = bench.examiner
            log(
                f"examiner: deny p50 {e.deny.p50_ms} / p95 {e.deny.p95_ms} ms, "
                f"approve p50 {e.approve.p50_ms} / p95 {e.approve.p95_ms} ms ({e.actions} each)"
            )
        elif examiner:
            bench.notes["examiner"] = "not run: no decided claims to pend"
        else:
            bench.notes["examiner"] = "skipped (--skip-examiner)"
    log("decisions: rolled back" if bench.rolled_back else "decisions: NOT rolled back")
    return bench
