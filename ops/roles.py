"""The platform's PostgreSQL roles and their privileges: least privilege (45 CFR 164.312(a)(1), access control).

Three roles (names in ``settings.DATABASE_ROLES``), made by ``roles_ensure`` from the administrative connection
(``settings.DATABASE_ADMIN_URL``; ``manage.py db_roles``, run by ``make db`` and ``make test``):

* **owner** (``claims_owner``): to own the schema and run migrations; may create databases (the test database),
  nothing more: no superuser, no CREATEROLE;
* **app** (``claims_app``): the web and the workers' DML: SELECT, INSERT, UPDATE, DELETE on the tables, the
  sequences, temporary tables (COPY staging, ops/platform/binding.py); on the audit trail only INSERT and SELECT;
  EXECUTE on the owner's DDL functions (``ops.platform.ddl``: partitions, materialized-view refresh, ANALYZE);
* **reporting** (``claims_reporting``): read-only, for the EXPLAIN page and catalog reads: SELECT on every table
  but the PII table (``members_memberpii``: an EXPLAIN ANALYZE row count or a cast error would reveal an SSN),
  and ``pg_read_all_stats``.

None is a superuser, so none can run ``pg_read_file``, ``pg_ls_dir``, ``lo_export`` to the server's disk,
``pg_reload_conf`` or ``pg_terminate_backend`` on another role's session (PostgreSQL docs, "System
Administration Functions": superuser-only or granted by the predefined roles, none of which these hold but
``pg_read_all_stats``).

``grants_apply`` gives the privileges in one database; it runs after every ``migrate`` (``post_migrate``), so a
new table is granted as soon as it exists, and sets default privileges for the tables the migrating role makes
later (monthly partitions: SELECT and INSERT for the app, SELECT for reporting; the app reaches partitions
through their parents, whose grants are the ones checked). Role attributes and memberships are cluster-wide;
grants are per database.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import quote

import psycopg
from django.conf import settings
from django.db import connections
from psycopg import sql

from members.models import MemberPII
from ops.platform import ddl
from ops.platform.models import AuditEvent

logger = logging.getLogger(__name__)

# Tables the reporting role may not read: direct identifiers (45 CFR 164.514(b)(2)).
REPORTING_DENIED = (MemberPII._meta.db_table,)
# The append-only audit trail: the app may add and read, never change or remove (45 CFR 164.312(b), (c)(1)).
AUDIT_TABLE = AuditEvent._meta.db_table
APP_TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
AUDIT_REVOKED = "UPDATE, DELETE, TRUNCATE"

# Role attributes: LOGIN and nothing that reaches beyond the database's own tables.
_ATTRIBUTES = {
    "owner": "LOGIN NOSUPERUSER NOCREATEROLE CREATEDB NOREPLICATION NOBYPASSRLS",
    "app": "LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS",
    "reporting": "LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS",
}


def roles() -> Mapping[str, str]:
    """``{"owner": name, "app": name, "reporting": name}`` from ``settings.DATABASE_ROLES``."""
    return dict(settings.DATABASE_ROLES)


def roles_ensure(admin_url: str | None = None) -> list[str]:
    """Create the missing roles and set every role's attributes, on the administrative connection
    (``admin_url``, default ``settings.DATABASE_ADMIN_URL``). Idempotent. Returns what it did, one line each.

    Raises ``psycopg.Error`` when that connection may not create roles (it needs superuser or CREATEROLE).
    """
    done = []
    with psycopg.connect(admin_url or settings.DATABASE_ADMIN_URL, autocommit=True) as admin:
        for kind, name in roles().items():
            role = sql.Identifier(name)
            exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name]).fetchone()
            if not exists:
                admin.execute(sql.SQL("CREATE ROLE {} " + _ATTRIBUTES[kind]).format(role))
                done.append(f"created role {name} ({kind})")
            else:
                admin.execute(sql.SQL("ALTER ROLE {} " + _ATTRIBUTES[kind]).format(role))
                done.append(f"role {name} ({kind}) exists; attributes set")
        admin.execute(sql.SQL("GRANT pg_read_all_stats TO {}").format(sql.Identifier(roles()["reporting"])))
        done.append(f"granted pg_read_all_stats to {roles()['reporting']}")
    return done


# Extensions only a superuser may create (or that the app's paths expect present), made once in the template.
TEMPLATE_EXTENSIONS = ("pg_stat_statements", "pgstattuple", "pg_trgm", "btree_gin", "hypopg")


def template_ensure(admin_url: str | None = None) -> list[str]:
    """Make ``settings.DATABASE_TEMPLATE`` when it is missing: a database with ``TEMPLATE_EXTENSIONS`` (those the
    server has), marked a template, that the owner role clones for the platform's database and the test database
    (so the migrations, run by the owner, find the extensions made). Gives the owner ``pg_stat_scan_tables``
    (pgstattuple's functions, for the index-bloat estimate) and the app EXECUTE on ``pg_stat_statements_reset``
    (the ops page's reset). Idempotent; returns what it did. Raises ``psycopg.Error`` without the rights."""
    done = []
    name = settings.DATABASE_TEMPLATE
    admin_url = admin_url or settings.DATABASE_ADMIN_URL
    with psycopg.connect(admin_url, autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            done.append(f"created template database {name}")
        admin.execute(sql.SQL("ALTER DATABASE {} IS_TEMPLATE true").format(sql.Identifier(name)))
        # pgstattuple's functions (the index-bloat estimate) and the server's settings (the benchmark's report).
        admin.execute(
            sql.SQL("GRANT pg_stat_scan_tables, pg_read_all_settings TO {}").format(
                sql.Identifier(roles()["owner"])
            )
        )
    with psycopg.connect(psycopg.conninfo.make_conninfo(admin_url, dbname=name), autocommit=True) as template:
        available = {
            row[0]
            for row in template.execute(
                "SELECT name FROM pg_available_extensions WHERE name = ANY(%s)", [list(TEMPLATE_EXTENSIONS)]
            )
        }
        for extension in TEMPLATE_EXTENSIONS:
            if extension in available:
                template.execute(
                    sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(extension))
                )
        template.execute(
            sql.SQL("GRANT EXECUTE ON FUNCTION pg_stat_statements_reset(oid, oid, bigint) TO {}").format(
                sql.Identifier(roles()["app"])
            )
        )
        done.append(
            f"template {name}: extensions {', '.join(e for e in TEMPLATE_EXTENSIONS if e in available)}"
        )
    return done


def database_ensure(admin_url: str | None = None, *, reset: bool = False) -> list[str]:
    """Create DATABASE_URL's database from the template, owned by the owner role, when it is missing (``reset``:
    drop it first). Idempotent; returns what it did. Raises ``psycopg.Error`` without the rights."""
    done = []
    name = settings.DATABASES["default"]["NAME"]
    with psycopg.connect(admin_url or settings.DATABASE_ADMIN_URL, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and reset:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            done.append(f"dropped database {name}")
            exists = None
        if not exists:
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER {}").format(
                    sql.Identifier(name),
                    sql.Identifier(settings.DATABASE_TEMPLATE),
                    sql.Identifier(roles()["owner"]),
                )
            )
            done.append(f"created database {name} (owner {roles()['owner']})")
        else:
            found = admin.execute(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if found and found[0] != roles()["owner"]:
                raise RuntimeError(
                    f"database {name} belongs to {found[0]}, not to {roles()['owner']}: it was made before the "
                    "roles; make it anew (DB_RESET=1 make db), which deletes its data"
                )
            done.append(f"database {name} exists")
    return done


def test_database_adopt(admin_url: str | None = None) -> list[str]:
    """Give a test database (``test_<name>``) left by a run made before the roles to the owner role, which makes
    the test databases and drops the old one first (pytest --create-db). Returns what it did."""
    test = f"test_{settings.DATABASES['default']['NAME']}"
    owner = roles()["owner"]
    with psycopg.connect(admin_url or settings.DATABASE_ADMIN_URL, autocommit=True) as admin:
        found = admin.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [test]
        ).fetchone()
        if not found or found[0] == owner:
            return []
        admin.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(test), sql.Identifier(owner))
        )
    return [f"test database {test} now belongs to {owner}"]


def owner_url() -> str:
    """``settings.DATABASES["owner"]`` as a ``postgres://`` URL (its password included when it has one)."""
    db = settings.DATABASES["owner"]
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    port = f":{db['PORT']}" if db["PORT"] else ""
    return (
        f"postgres://{quote(db['USER'], safe='')}{password}@{db['HOST']}{port}/{quote(db['NAME'], safe='')}"
    )


def missing_roles(using: str = "default") -> list[str]:
    """The role names of ``settings.DATABASE_ROLES`` that the server does not have."""
    names = list(roles().values())
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", [names])
        found = {row[0] for row in cursor.fetchall()}
    return [name for name in names if name not in found]


def grants_apply(using: str = "default") -> None:
    """Grant the app and reporting roles their privileges in the database of connection ``using`` (module
    docstring), as that connection's role (the one that ran the migrations, owner of the tables).

    Raises ``django.db.DatabaseError`` when a role is missing (``manage.py db_roles`` makes them).
    """
    app, reporting = sql.Identifier(roles()["app"]), sql.Identifier(roles()["reporting"])
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT current_database()")
        (database,) = cursor.fetchone()
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [AUDIT_TABLE],
        )
        audit_tables = [AUDIT_TABLE, *(row[0] for row in cursor.fetchall())]
        # The tables, views and sequences this role owns: "ON ALL TABLES IN SCHEMA" would also name the objects an
        # extension made (hypopg's view, pg_stat_statements' views), which belong to the role that created the
        # extension, and a migrating owner that is not a superuser may not grant on those.
        cursor.execute(
            "SELECT c.relkind = 'S', c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S') "
            "AND pg_has_role(current_user, c.relowner, 'USAGE') "
            "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e') ORDER BY 2"
        )
        owned = cursor.fetchall()
        tables = sql.SQL(", ").join(sql.Identifier(name) for is_sequence, name in owned if not is_sequence)
        sequences = sql.SQL(", ").join(sql.Identifier(name) for is_sequence, name in owned if is_sequence)
        raw = cursor.connection
        statements = [
            sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(sql.Identifier(database), app),
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), reporting),
            sql.SQL("GRANT USAGE ON SCHEMA public TO {}, {}").format(app, reporting),
            *(
                [
                    sql.SQL("GRANT " + APP_TABLE_PRIVILEGES + " ON TABLE {} TO {}").format(tables, app),
                    sql.SQL("GRANT SELECT ON TABLE {} TO {}").format(tables, reporting),
                ]
                if any(not is_sequence for is_sequence, _ in owned)
                else []
            ),
            *(
                [sql.SQL("GRANT USAGE, SELECT, UPDATE ON SEQUENCE {} TO {}").format(sequences, app)]
                if any(is_sequence for is_sequence, _ in owned)
                else []
            ),
            sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT ON TABLES TO {}").format(
                app
            ),
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {}"
            ).format(app),
            sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {}").format(
                reporting
            ),
            *(
                sql.SQL("REVOKE " + AUDIT_REVOKED + " ON {} FROM {}").format(sql.Identifier(table), app)
                for table in audit_tables
            ),
            *(
                sql.SQL("REVOKE ALL ON {} FROM {}").format(sql.Identifier(table), reporting)
                for table in REPORTING_DENIED
            ),
        ]
        # The owner's DDL functions (ops.platform.ddl), once their migration has made them.
        for signature in ddl.FUNCTIONS:
            cursor.execute("SELECT to_regprocedure(%s) IS NOT NULL", [signature])
            if cursor.fetchone()[0]:
                statements.append(sql.SQL("GRANT EXECUTE ON FUNCTION " + signature + " TO {}").format(app))
        for statement in statements:
            cursor.execute(statement.as_string(raw))


def grants_after_migrate(using: str = "default", **_: object) -> None:
    """``post_migrate`` receiver: ``grants_apply`` when the roles exist, else a warning that says how to make
    them (a database migrated before ``db_roles`` ran is granted by the next ``migrate``)."""
    missing = missing_roles(using)
    if missing:
        logger.warning(
            "database roles %s are missing: run `manage.py db_roles`, then migrate", ", ".join(missing)
        )
        return
    grants_apply(using)
