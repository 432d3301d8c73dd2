"""``ANALYZE`` of the claim partitions a large load wrote to.

Autovacuum analyzes a table once ~10 % of it changed (autovacuum_analyze_scale_factor): a 100,000-claim file
into a month that already holds millions can leave the planner's statistics stale for hours, and queries on
the new month then get row estimates of 1. ANALYZE of just the touched month partitions is cheap (a sample of
30,000 rows per table by default).
"""

from __future__ import annotations

from django.db import connections

from claims.models import Claim, IngestBatch
from ops import conf
from ops.platform import ddl
from ops.platform.partitioning import partition_name, registry_group


def batch_is_large(*, batch_id: int, min_claims: int | None = None, using: str = "default") -> bool:
    """True when batch ``batch_id`` loaded at least ``min_claims`` (OPS_ANALYZE_MIN_CLAIMS) claims."""
    threshold = conf.analyze_min_claims() if min_claims is None else min_claims
    count = IngestBatch.objects.using(using).filter(pk=batch_id).values_list("claim_count", flat=True).first()
    return count is not None and count >= threshold


def analyze_plan(*, batch_id: int, min_claims: int | None = None, using: str = "default") -> list[str]:
    """The partitions to ANALYZE after batch ``batch_id``: [] when the batch is smaller than ``min_claims``."""
    threshold = conf.analyze_min_claims() if min_claims is None else min_claims
    batch = IngestBatch.objects.using(using).filter(pk=batch_id).only("claim_count").first()
    if batch is None or batch.claim_count < threshold:
        return []
    months = (
        Claim.objects.using(using)
        .filter(batch_id=batch_id)
        .dates("service_date_from", "month")
        .order_by("service_date_from")
    )
    tables = [t.table for t in registry_group(Claim.partition_group).tables]
    return [partition_name(table, month) for month in months for table in tables]


def analyze_tables(tables: list[str], *, using: str = "default") -> list[str]:
    """ANALYZE each existing table of ``tables`` (names from analyze_plan); returns those analyzed."""
    done: list[str] = []
    with connections[using].cursor() as cursor:
        for table in tables:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
            if not cursor.fetchone()[0]:
                continue
            ddl.analyze(cursor, table=table)  # the owner's function: ANALYZE is the table owner's
            done.append(table)
    return done
