"""Fixtures of the ops tests: scratch tables in the test transaction, and raw connections to the test database."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest
from django.db import connection


def run(sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall()) if cursor.description else []


@pytest.fixture
def raw_connect() -> Iterator[Callable[[], psycopg.Connection]]:
    """Open autocommit psycopg connections to the test database (other backends); all closed at the end."""
    opened: list[psycopg.Connection] = []
    settings = connection.settings_dict

    def connect() -> psycopg.Connection:
        conn = psycopg.connect(
            dbname=settings["NAME"],
            user=settings["USER"],
            password=settings["PASSWORD"] or None,
            host=settings["HOST"] or None,
            port=settings["PORT"] or None,
            autocommit=True,
        )
        opened.append(conn)
        return conn

    yield connect
    for conn in opened:
        conn.close()


@pytest.fixture
def app_may_create() -> Iterator[None]:
    """Let the app role create scratch tables and indexes in the test's transaction (rolled back with it), for
    the tests that plant objects for the ops pages to find: CREATE on the schema, granted by the owner for the
    test and revoked after it. Production's app role never holds it (ops/roles.py, ops/tests/test_roles.py)."""
    from django.conf import settings

    from tests.owner import owner_execute

    app = settings.DATABASE_ROLES["app"]
    database = connection.settings_dict["NAME"]
    owner_execute(
        f'GRANT CREATE ON SCHEMA public TO "{app}"', f'GRANT CREATE ON DATABASE "{database}" TO "{app}"'
    )
    try:
        yield
    finally:
        owner_execute(
            f'REVOKE CREATE ON SCHEMA public FROM "{app}"',
            f'REVOKE CREATE ON DATABASE "{database}" FROM "{app}"',
        )
