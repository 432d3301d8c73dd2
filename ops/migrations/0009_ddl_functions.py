"""The schema changes the running platform makes, as functions that run with their owner's rights.

PostgreSQL lets only a table's owner create its partitions, attach and detach them, drop them, refresh a
materialized view or ANALYZE (docs: "ALTER TABLE", "REFRESH MATERIALIZED VIEW", "ANALYZE"; PostgreSQL 15 has no
MAINTAIN privilege). The app role owns nothing (ops/roles.py), so each such change is a ``SECURITY DEFINER``
function owned by the role that migrates (the schema's owner), which ``ops.roles.grants_apply`` lets the app role
EXECUTE. Each does one narrow thing and checks what it is given (a partitioned parent, a name of the
``<parent>_pYYYY_MM`` form, a materialized view), with a fixed ``search_path`` (docs: "Writing SECURITY DEFINER
Functions Safely"). They run on the caller's own connection, inside its transaction: a second connection would
neither see the caller's uncommitted rows nor get the parent's lock while the caller holds one.
"""

from __future__ import annotations

from django.db import migrations

# The partition functions' checks: a partitioned parent, and a name of one of its monthly (or DEFAULT) partitions.
_CHECKS = """
    IF (SELECT relkind FROM pg_class WHERE oid = parent) IS DISTINCT FROM 'p' THEN
        RAISE EXCEPTION 'not a partitioned table: %', parent USING ERRCODE = 'wrong_object_type';
    END IF;
    IF partition_name !~ ('^' || (SELECT relname FROM pg_class WHERE oid = parent) || '_(p[0-9]{4}_[0-9]{2}|default)$')
    THEN
        RAISE EXCEPTION 'partition name % is not %_pYYYY_MM', partition_name, parent
            USING ERRCODE = 'invalid_name';
    END IF;"""


def _definer(signature: str, body: str) -> str:
    """A ``SECURITY DEFINER`` PL/pgSQL procedure (returning void) with a fixed search_path."""
    return (
        f"CREATE OR REPLACE FUNCTION {signature} RETURNS void "
        f"LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$\nBEGIN{body}\nEND $$"
    )


def _on_partition(name: str, body: str, *, more_args: str = "") -> str:
    """A definer function of (parent, partition_name[, more_args]) that runs ``_CHECKS`` before ``body``."""
    return _definer(f"{name}(parent regclass, partition_name text{more_args})", _CHECKS + body)


_BOUNDS = ", lo text, hi text, note text"
_COMMENT = "\n    EXECUTE format('COMMENT ON TABLE %I IS %L', partition_name, note);"
_CREATE = "CREATE TABLE %I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)', partition_name, parent, lo, hi"
_ATTACH = "ALTER TABLE %s ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', parent, partition_name, lo, hi"
_LIKE = "CREATE TABLE %I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', partition_name, parent"
FUNCTIONS = [
    _on_partition(
        "platform_partition_create", f"\n    EXECUTE format('{_CREATE});{_COMMENT}", more_args=_BOUNDS
    ),
    _on_partition("platform_partition_create_detached", f"\n    EXECUTE format('{_LIKE});"),
    _on_partition(
        "platform_partition_attach", f"\n    EXECUTE format('{_ATTACH});{_COMMENT}", more_args=_BOUNDS
    ),
    _on_partition(
        "platform_partition_drop",
        """
    IF partition_name LIKE '%\\_default' THEN
        RAISE EXCEPTION 'the DEFAULT partition is not dropped' USING ERRCODE = 'invalid_name';
    END IF;
    EXECUTE format('DELETE FROM %I', partition_name);
    EXECUTE format('ALTER TABLE %s DETACH PARTITION %I', parent, partition_name);
    EXECUTE format('DROP TABLE %I', partition_name);""",
    ),
    _on_partition(
        "platform_partition_lock_share",
        """
    EXECUTE format('LOCK TABLE %I IN SHARE MODE', partition_name);""",
    ),
    # "concurrently" is a keyword: the flag is is_concurrent.
    _definer(
        "platform_matview_refresh(target regclass, is_concurrent boolean)",
        """
    IF (SELECT relkind FROM pg_class WHERE oid = target) IS DISTINCT FROM 'm' THEN
        RAISE EXCEPTION 'not a materialized view: %', target USING ERRCODE = 'wrong_object_type';
    END IF;
    EXECUTE format('REFRESH MATERIALIZED VIEW %s %s', CASE WHEN is_concurrent THEN 'CONCURRENTLY' ELSE '' END,
                   target);""",
    ),
    _definer(
        "platform_analyze(target regclass)",
        """
    IF (SELECT relkind FROM pg_class WHERE oid = target) NOT IN ('r', 'p', 'm') THEN
        RAISE EXCEPTION 'not a table: %', target USING ERRCODE = 'wrong_object_type';
    END IF;
    EXECUTE format('ANALYZE %s', target);""",
    ),
]
_SIGNATURES = (
    "platform_partition_create(regclass, text, text, text, text), platform_partition_create_detached(regclass, text), "
    "platform_partition_attach(regclass, text, text, text, text), platform_partition_drop(regclass, text), "
    "platform_partition_lock_share(regclass, text), platform_matview_refresh(regclass, boolean), "
    "platform_analyze(regclass)"
)
# Nobody but the grantees (ops.roles.grants_apply) may call them: PUBLIC gets EXECUTE on new functions by default.
FUNCTIONS.append(f"REVOKE ALL ON FUNCTION {_SIGNATURES} FROM PUBLIC")


class Migration(migrations.Migration):
    dependencies = [("ops", "0008_audit_search_detail")]

    operations = [migrations.RunSQL(FUNCTIONS, f"DROP FUNCTION IF EXISTS {_SIGNATURES}")]
