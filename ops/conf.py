"""Maintenance settings, each overridable in Django settings under the same name (defaults here).

* ``OPS_ARCHIVE_DIR``: where retired partitions are archived (gzip files), default ``<BASE_DIR>/var/archive``.
* ``OPS_CLAIMS_RETENTION_MONTHS`` (120: ten years, the Medicare Advantage record-retention period,
  42 CFR 422.504(d)) / ``OPS_AUDIT_RETENTION_MONTHS`` (24): full months kept online before the current one;
  older monthly partitions are archived, verified, then dropped.
* ``OPS_PARTITION_MONTHS_AHEAD`` (3): future monthly partitions kept ready.
* ``OPS_CLEANUP_RETENTION_DAYS`` (90), ``OPS_CLEANUP_BATCH_SIZE`` (5,000 rows), ``OPS_CLEANUP_PAUSE_S`` (0.1 s).
* ``OPS_ANALYZE_MIN_CLAIMS`` (10,000): a committed batch of at least this many claims triggers ANALYZE.
* ``OPS_REINDEX_BLOAT_PCT`` (30 %) and ``OPS_REINDEX_MIN_BYTES`` (8 MiB): indexes rebuilt by reindex_bloated.
* ``OPS_METRICS_SLOW_STATEMENT_MS`` (500): mean time above which a statement counts in
  ``claims_db_slow_statements`` (ops/metrics.py).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings


def archive_dir() -> Path:
    return Path(getattr(settings, "OPS_ARCHIVE_DIR", Path(settings.BASE_DIR) / "var" / "archive"))


def claims_retention_months() -> int:
    return int(getattr(settings, "OPS_CLAIMS_RETENTION_MONTHS", 120))


def audit_retention_months() -> int:
    return int(getattr(settings, "OPS_AUDIT_RETENTION_MONTHS", 24))


def months_ahead() -> int:
    return int(getattr(settings, "OPS_PARTITION_MONTHS_AHEAD", 3))


def cleanup_retention_days() -> int:
    return int(getattr(settings, "OPS_CLEANUP_RETENTION_DAYS", 90))


def cleanup_batch_size() -> int:
    return int(getattr(settings, "OPS_CLEANUP_BATCH_SIZE", 5000))


def cleanup_pause_s() -> float:
    return float(getattr(settings, "OPS_CLEANUP_PAUSE_S", 0.1))


def analyze_min_claims() -> int:
    return int(getattr(settings, "OPS_ANALYZE_MIN_CLAIMS", 10_000))


def reindex_bloat_pct() -> float:
    return float(getattr(settings, "OPS_REINDEX_BLOAT_PCT", 30.0))


def reindex_min_bytes() -> int:
    return int(getattr(settings, "OPS_REINDEX_MIN_BYTES", 8 * 1024 * 1024))


def metrics_slow_statement_ms() -> float:
    return float(getattr(settings, "OPS_METRICS_SLOW_STATEMENT_MS", 500.0))
