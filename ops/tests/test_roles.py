"""The database roles (ops/roles.py): attributes, table and function privileges, and what the app role is refused
when it tries, on its own connection to the test database."""

from __future__ import annotations

import io
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from ops.platform.ddl import FUNCTIONS
from ops.roles import AUDIT_TABLE, REPORTING_DENIED
from ops.tests.conftest import run

pytestmark = pytest.mark.django_db

ROLES = settings.DATABASE_ROLES


def _connect_as(role: str) -> psycopg.Connection[Any]:
    params = connection.settings_dict
    return psycopg.connect(
        dbname=params["NAME"],
        user=role,
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        autocommit=True,
    )


def _audit_partition() -> str:
    rows = run(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = %s::regclass ORDER BY 1 LIMIT 1",
        [AUDIT_TABLE],
    )
    assert rows, "the audit trail has monthly partitions"
    return str(rows[0][0])


def test_no_role_is_a_superuser_or_can_make_roles() -> None:
    rows = run(
        "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolcanlogin, rolbypassrls FROM pg_roles "
        "WHERE rolname = ANY(%s) ORDER BY rolname",
        [list(ROLES.values())],
    )
    assert {row[0]: row[1:] for row in rows} == {
        ROLES["app"]: (False, False, False, True, False),
        ROLES["owner"]: (False, False, True, True, False),
        ROLES["reporting"]: (False, False, False, True, False),
    }


@pytest.mark.parametrize(
    ("role", "table", "privilege", "granted"),
    [
        ("app", "claims_claim", "SELECT", True),
        ("app", "claims_claim", "UPDATE", True),
        ("app", "members_memberpii", "UPDATE", True),
        ("app", AUDIT_TABLE, "INSERT", True),
        ("app", AUDIT_TABLE, "SELECT", True),
        ("app", AUDIT_TABLE, "UPDATE", False),
        ("app", AUDIT_TABLE, "DELETE", False),
        ("app", AUDIT_TABLE, "TRUNCATE", False),
        ("app", "claims_claim", "TRUNCATE", False),
        ("reporting", "claims_claim", "SELECT", True),
        ("reporting", "claims_claim", "INSERT", False),
        ("reporting", "claims_claim", "UPDATE", False),
        ("reporting", REPORTING_DENIED[0], "SELECT", False),
        ("reporting", AUDIT_TABLE, "DELETE", False),
    ],
)
def test_table_privileges(role: str, table: str, privilege: str, granted: bool) -> None:
    assert run("SELECT has_table_privilege(%s, %s, %s)", [ROLES[role], table, privilege]) == [(granted,)]


@pytest.mark.parametrize("privilege", ["UPDATE", "DELETE", "TRUNCATE"])
def test_the_audit_partitions_are_append_only_for_the_app_too(privilege: str) -> None:
    partition = _audit_partition()
    assert run("SELECT has_table_privilege(%s, %s, %s)", [ROLES["app"], partition, privilege]) == [(False,)]


@pytest.mark.parametrize(
    "function",
    ["pg_read_file(text)", "pg_ls_dir(text)", "lo_export(oid, text)", "lo_import(text)", "pg_reload_conf()"],
)
@pytest.mark.parametrize("role", ["app", "reporting", "owner"])
def test_no_role_may_run_the_server_file_functions(role: str, function: str) -> None:
    assert run("SELECT has_function_privilege(%s, %s, 'EXECUTE')", [ROLES[role], function]) == [(False,)]


def test_reporting_reads_the_statistics_of_every_session() -> None:
    assert run("SELECT pg_has_role(%s, 'pg_read_all_stats', 'MEMBER')", [ROLES["reporting"]]) == [(True,)]
    assert run("SELECT pg_has_role(%s, 'pg_read_all_stats', 'MEMBER')", [ROLES["app"]]) == [(False,)]


@pytest.mark.django_db(transaction=True)
def test_the_app_role_is_refused_what_it_may_not_do() -> None:
    superuser = _connect_as(ROLES["owner"])  # another role's session
    app = _connect_as(ROLES["app"])
    try:
        with app.transaction():
            app.execute(
                f"INSERT INTO {AUDIT_TABLE} (occurred_at, username, action, object_type, object_id, request_id) "
                "VALUES (now(), 'app-test', 'view', 'claims.claim', '1', 'r1')"
            )
        assert app.execute(f"SELECT count(*) FROM {AUDIT_TABLE} WHERE username = 'app-test'").fetchone() == (
            1,
        )
        refused = [
            f"UPDATE {AUDIT_TABLE} SET object_id = '2' WHERE username = 'app-test'",
            f"DELETE FROM {AUDIT_TABLE} WHERE username = 'app-test'",
            f"TRUNCATE {AUDIT_TABLE}",
            f"UPDATE {_audit_partition()} SET object_id = '2'",
            "SELECT pg_read_file('/etc/hostname')",
            "SELECT lo_export(1, '/tmp/ops_roles_lo_export')",
            f"SELECT pg_terminate_backend({superuser.info.backend_pid})",
            "CREATE ROLE ops_roles_intruder",
            "ALTER ROLE CURRENT_USER SUPERUSER",
        ]
        for statement in refused:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(statement)
        assert superuser.execute("SELECT 1").fetchone() == (1,)
        assert app.execute(f"SELECT count(*) FROM {AUDIT_TABLE} WHERE username = 'app-test'").fetchone() == (
            1,
        )
    finally:
        app.close()
        superuser.close()


def test_db_roles_is_idempotent_and_grants_again() -> None:
    first, second = io.StringIO(), io.StringIO()
    call_command("db_roles", "--grants", stdout=first)
    call_command("db_roles", "--grants", stdout=second)
    assert f"role {ROLES['app']} (app) exists; attributes set" in second.getvalue()
    test_no_role_is_a_superuser_or_can_make_roles()
    assert run("SELECT has_table_privilege(%s, %s, 'UPDATE')", [ROLES["app"], AUDIT_TABLE]) == [(False,)]


@pytest.mark.django_db(transaction=True)
def test_the_app_role_changes_the_schema_only_through_the_owners_functions() -> None:
    # The test database belongs to the role that migrated it; the app role owns nothing. A month far ahead, so no
    # test's data is in it; dropped again at the end.
    parent, name = "claims_claimline", "claims_claimline_p2041_01"
    app = _connect_as(ROLES["app"])
    try:
        for statement in [
            f"CREATE TABLE {name} PARTITION OF {parent} FOR VALUES FROM ('2041-01-01') TO ('2041-02-01')",
            "REFRESH MATERIALIZED VIEW analytics_diagnosis_monthly_mv",
        ]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(statement)
        for signature in FUNCTIONS:
            assert run("SELECT has_function_privilege(%s, %s, 'EXECUTE')", [ROLES["app"], signature]) == [
                (True,)
            ]
            assert run("SELECT has_function_privilege('public', %s, 'EXECUTE')", [signature]) == [(False,)]

        app.execute(
            "SELECT platform_partition_create(%s::regclass, %s, '2041-01-01', '2041-02-01', 'test')",
            [parent, name],
        )
        assert run("SELECT obj_description(%s::regclass, 'pg_class')", [name]) == [("test",)]
        app.execute("SELECT platform_matview_refresh('analytics_diagnosis_monthly_mv'::regclass, true)")
        app.execute("SELECT platform_analyze(%s::regclass)", [parent])
        # The functions check what they are given: a name not <parent>_pYYYY_MM, a table that is not partitioned,
        # a view that is not materialized, the DEFAULT partition.
        for call, error in [
            (
                f"SELECT platform_partition_create('{parent}'::regclass, 'evil; DROP TABLE x', 'a', 'b', '')",
                psycopg.errors.InvalidName,
            ),
            (
                "SELECT platform_partition_create('auth_user'::regclass, 'auth_user_p2041_01', 'a', 'b', '')",
                psycopg.errors.WrongObjectType,
            ),
            ("SELECT platform_matview_refresh('auth_user'::regclass, false)", psycopg.errors.WrongObjectType),
            (
                f"SELECT platform_partition_drop('{parent}'::regclass, '{parent}_default')",
                psycopg.errors.InvalidName,
            ),
        ]:
            with pytest.raises(error):
                app.execute(call)

        app.execute("SELECT platform_partition_drop(%s::regclass, %s)", [parent, name])
        assert run("SELECT to_regclass(%s)", [name]) == [(None,)]
    finally:
        app.close()
        run(f"DROP TABLE IF EXISTS {name}")
