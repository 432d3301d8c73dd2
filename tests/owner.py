"""The tests' way to do what only the schema's owner may (README "Database roles"): the tests connect as the app
role, as the web and the workers do, so a scratch table, a TRUNCATE, a VACUUM or a dropped index goes through the
owner's own connection here. Autocommit: what it does is committed at once, and seen by the app's connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from django.db import connections


def _execute(conninfo: str, statements: tuple[str, ...], params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        rows: list[tuple[Any, ...]] = []
        for statement in statements:
            cursor = conn.execute(statement, params)
            rows = cursor.fetchall() if cursor.description else []
        return rows


def owner_execute(*statements: str, params: Any = None) -> list[tuple[Any, ...]]:
    """Run ``statements`` in order as the owner role on the test database; returns the last one's rows."""
    default, owner = connections["default"].settings_dict, connections["owner"].settings_dict
    conninfo = psycopg.conninfo.make_conninfo(
        dbname=default["NAME"],
        user=owner["USER"],
        password=owner["PASSWORD"] or None,
        host=owner["HOST"] or None,
        port=str(owner["PORT"]) if owner["PORT"] else None,
    )
    return _execute(conninfo, statements, params)


def admin_execute(*statements: str, params: Any = None) -> list[tuple[Any, ...]]:
    """Run ``statements`` as the administrative role (settings DATABASE_ADMIN_URL, a superuser) on the test
    database: for the few tests that write the catalog (planner statistics). Autocommit; returns the last rows."""
    from django.conf import settings

    test_database = connections["default"].settings_dict["NAME"]
    return _execute(
        psycopg.conninfo.make_conninfo(settings.DATABASE_ADMIN_URL, dbname=test_database), statements, params
    )


@contextmanager
def dropped_index(name: str) -> Iterator[None]:
    """Drop a declared index for the block (as the owner, committed) and build it again after, from its own
    definition (on every partition: ``ON ONLY`` left out)."""
    (definition,) = owner_execute("SELECT pg_get_indexdef(%s::regclass)", params=[name])[0]
    owner_execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        owner_execute(definition.replace(" ON ONLY ", " ON "))


@contextmanager
def default_as_owner() -> Iterator[None]:
    """The default connection logs in as the owner for the block (the development tools' tests: the benchmark,
    which creates schemas and scratch databases), then as the role it had."""
    default = connections["default"].settings_dict
    kept = {"USER": default["USER"], "PASSWORD": default["PASSWORD"]}
    owner = connections["owner"].settings_dict
    for connection in connections.all():
        connection.close()
    default.update(USER=owner["USER"], PASSWORD=owner["PASSWORD"])
    try:
        yield
    finally:
        for connection in connections.all():
            connection.close()
        default.update(kept)
