"""PHI protection findings of the security review (issue 10), each reproduced as a test that failed on the code
before its fix. Findings fixed elsewhere keep their tests beside their code, named here:

* the app's superuser EXPLAIN page (pg_read_file, pg_ls_dir, pg_terminate_backend, pg_reload_conf, lo_export,
  an SSN read): ``ops/tests/test_explain_activity.py::test_server_functions_are_refused``,
  ``::test_the_pii_table_is_not_readable``, ``::test_a_value_in_an_error_is_masked``;
  ``LIKE 'A%'`` and ``$1`` statements: ``::test_like_with_a_percent_sign_is_plain_sql``,
  ``::test_a_statement_with_dollar_parameters_gets_its_generic_plan``;
* the app connecting as ``postgres``: ``test_the_platform_connects_as_the_app_role_not_a_superuser`` below; roles
  without superuser, CREATEROLE or file functions, the audit trail without UPDATE/DELETE/TRUNCATE grants, the
  schema changed only through the owner's functions: ``ops/tests/test_roles.py``;
* the audit trail rewritable:
  ``ops/tests/test_audit.py::test_the_audit_trail_refuses_updates_and_deletes_whoever_sends_them``;
  ``request_id`` copied from the client: ``ops/tests/test_audit.py`` (client id kept beside the server's);
* analytics 500s on out-of-range dates: ``analytics/tests/test_pages.py`` (hypothesis over every URL);
* concurrent ingest of one file: ``claims/tests/test_ingest_concurrency.py``;
* ``--no-validate`` batches never validated: ``claims/tests/test_validate_batches.py``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from claims.models import IngestBatch
from ops.models import AuditAction, AuditEvent
from ops.platform.models import AuditOutcome
from ops.platform.sessions import SIGNED_IN_AT

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-passphrase"
LOGIN = reverse("admin:login")


@pytest.fixture
def staff(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("examiner1", "e@example.com", PASSWORD, is_staff=True)


def _sign_in(client: Client, password: str) -> Any:
    return client.post(LOGIN, {"username": "examiner1", "password": password, "next": "/admin/"})


def test_ten_wrong_passwords_lock_the_account_even_for_the_right_one(staff: Any) -> None:
    client = Client()
    for _ in range(9):
        assert _sign_in(client, "wrong-password-1").status_code == 200  # the form again, with its error
    assert _sign_in(client, "wrong-password-1").status_code == 429  # the tenth locks: django-axes' response
    locked = _sign_in(client, PASSWORD)
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    events = list(
        AuditEvent.objects.order_by("id").values_list("action", "outcome", "username", "ip_address")
    )
    # Ten wrong passwords, then the right one refused while locked: each a failed sign-in.
    assert events.count((AuditAction.LOGIN_FAILED, AuditOutcome.DENIED, "examiner1", "127.0.0.1")) == 11
    assert (AuditAction.LOCKOUT, AuditOutcome.DENIED, "examiner1", "127.0.0.1") in events
    assert not AuditEvent.objects.filter(action=AuditAction.LOGIN).exists()
    flat = " ".join(str(v) for row in AuditEvent.objects.values_list() for v in row)
    assert "wrong-password-1" not in flat and PASSWORD not in flat


def test_nine_wrong_passwords_do_not_lock_and_the_sign_in_is_audited(staff: Any) -> None:
    client = Client()
    for _ in range(9):
        _sign_in(client, "wrong-password-1")
    assert _sign_in(client, PASSWORD).status_code == 302
    login = AuditEvent.objects.get(action=AuditAction.LOGIN)
    assert (login.username, login.outcome, login.object_id) == (
        "examiner1",
        AuditOutcome.ALLOWED,
        str(staff.pk),
    )


def test_a_session_expires_after_fifteen_idle_minutes(staff: Any) -> None:
    client = Client()
    client.force_login(staff)
    client.get(reverse("admin:index"))
    expiry = client.session.get_expiry_date()
    assert abs((expiry - timezone.now()).total_seconds() - 15 * 60) < 30
    assert settings.SESSION_SAVE_EVERY_REQUEST  # each request moves the 15 minutes on: an idle limit


def test_a_session_ends_after_twelve_hours_however_active(staff: Any) -> None:
    client = Client()
    client.force_login(staff)
    assert client.get(reverse("admin:index")).status_code == 200
    session = client.session
    session[SIGNED_IN_AT] = time.time() - 12 * 3600 - 1
    session.save()
    response = client.get(reverse("admin:members_member_changelist"), {"q": "FRYE"})
    assert response.status_code == 302
    # Back to sign-in, with the path only: the search term stays out of the URL (and so of the access log).
    assert response["Location"] == f"{LOGIN}?next=/admin/members/member/"
    assert client.get(reverse("admin:index")).status_code == 302


def test_a_session_younger_than_twelve_hours_stays(staff: Any) -> None:
    client = Client()
    client.force_login(staff)
    session = client.session
    session[SIGNED_IN_AT] = time.time() - 11 * 3600
    session.save()
    assert client.get(reverse("admin:index")).status_code == 200


@pytest.mark.parametrize(
    ("password", "refused_because"),
    [
        ("short-pass1", "too short"),  # 11 characters
        ("password1234", "too common"),
        ("839201746529", "entirely numeric"),
    ],
)
def test_weak_passwords_are_refused(password: str, refused_because: str) -> None:
    with pytest.raises(ValidationError, match=refused_because):
        validate_password(password)


def test_a_long_uncommon_password_is_accepted() -> None:
    assert validate_password("tidal-brick-orbit-92") is None


# The production settings need these from the environment (config/settings/prod.py refuses the defaults).
PROD_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.prod",
    "DJANGO_SECRET_KEY": "x" * 20 + "-a-real-looking-production-secret-key-0123456789",
    "PII_SALT_KEYS": "a-production-salt",
    "PII_HMAC_KEY": "a-production-hmac-key",
}


def test_the_platform_connects_as_the_app_role_not_a_superuser() -> None:
    # The tests run as the web and the workers do: on DATABASE_URL, whose default is the app role.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user"
        )
        assert cursor.fetchone() == (settings.DATABASE_ROLES["app"], False, False, False)
    shown = _python(
        [
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings.dev'; django.setup(); "
            "from django.conf import settings as s; "
            "print(s.DATABASES['default']['USER'], s.DATABASES['owner']['USER'])",
        ],
        {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")},
    )
    assert shown.returncode == 0, shown.stderr[-500:]
    assert shown.stdout.split() == [settings.DATABASE_ROLES["app"], settings.DATABASE_ROLES["owner"]]


def _under_production_settings(
    args: list[str], *, unset: tuple[str, ...] = (), **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``python <args>`` in the project with the production settings (``PROD_ENV``, then ``env``), without
    the variables named in ``unset``."""
    environment = {k: v for k, v in os.environ.items() if k not in unset}
    environment.update({k: v for k, v in PROD_ENV.items() if k not in unset}, **env)
    return _python(args, environment)


def _python(args: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``python <args>`` in the project with ``environment``; its output captured, its exit status not checked."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_the_production_settings() -> None:
    result = _under_production_settings(["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_signed_in_pages_carry_no_store_and_a_csp(staff: Any, admin_client: Client) -> None:
    for response in (
        admin_client.get(reverse("admin:index")),
        admin_client.get(reverse("admin:members_member_changelist")),
    ):
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp


def test_metrics_answer_only_the_allowed_addresses() -> None:
    client = Client()
    with override_settings(METRICS_ALLOWED_IPS=["10.9.8.7"]):
        assert client.get("/metrics").status_code == 403
    denied = AuditEvent.objects.get(outcome=AuditOutcome.DENIED)
    assert (denied.object_type, denied.object_id) == ("http.page", "prometheus-django-metrics")
    with override_settings(METRICS_ALLOWED_IPS=["127.0.0.1"]):
        response = client.get("/metrics")
    assert response.status_code == 200 and b"django_http_requests" in response.content


def test_production_refuses_the_development_pii_keys() -> None:
    result = _under_production_settings(
        ["-c", "import django; django.setup()"], unset=("PII_SALT_KEYS", "PII_HMAC_KEY")
    )
    assert result.returncode != 0 and "PII_SALT_KEYS must be set in production" in result.stderr


def test_production_serves_metrics_to_localhost_only() -> None:
    result = _under_production_settings(
        ["-c", "from django.conf import settings; print(settings.METRICS_ALLOWED_IPS)"]
    )
    assert result.stdout.strip() == "['127.0.0.1', '::1']", result.stderr


def test_a_403_is_an_audit_event(staff: Any) -> None:
    client = Client()
    client.force_login(staff)  # staff without the ops permission
    assert client.get(reverse("admin:ops_slow_queries")).status_code == 403
    denied = AuditEvent.objects.get(outcome=AuditOutcome.DENIED)
    assert (denied.username, denied.object_id) == ("examiner1", "admin:ops_slow_queries")


UHIN = "837P/uhin/837.edi"  # one claim; the subscriber's DMG at segment 19, NM1*IL at 16


def _ingest(tmp_path: Path, shared_x12: Path, old: bytes, new: bytes, *args: str) -> tuple[IngestBatch, str]:
    path = tmp_path / "bad.edi"
    raw = (shared_x12 / UHIN).read_bytes()
    assert old in raw
    path.write_bytes(raw.replace(old, new))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.suppress(CommandError):
        call_command("ingest_837", str(path), *args, stdout=out, stderr=err)
    return IngestBatch.objects.get(), out.getvalue() + err.getvalue()


def test_an_ingest_error_names_its_place_without_the_value(
    tmp_path: Path, shared_x12: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    batch, output = _ingest(tmp_path, shared_x12, b"DMG*D8*19461111*F~", b"DMG*D8*19730532*F~")
    assert batch.status == "rejected"
    (error,) = batch.errors
    assert (error["position"], error["segment"], error["element"]) == (19, "DMG", "DMG02")
    assert "date of birth" in error["message"] and "rejected 1" in output
    # Before: "date of birth '19730532' is not CCYYMMDD" in the batch, the output and the log.
    for text in (str(batch.errors), output, caplog.text):
        assert "19730532" not in text


def test_validation_findings_carry_no_element_value(
    tmp_path: Path, shared_x12: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # A subscriber last name longer than NM103 allows (60): pyx12 reports it, with the value as err_val.
    long_name = b"MARQUARDTVONDERSCHULENBURGHAUSENWITTELSBACHERSTRASSENMEISTERSOHN"
    batch, output = _ingest(tmp_path, shared_x12, b"NM1*IL*1*MARQUARDT*", b"NM1*IL*1*" + long_name + b"*")
    batch.refresh_from_db()
    findings = [*batch.errors, *batch.warnings, *(batch.validation_errors or [])]
    assert any(f.get("element", "").startswith("NM103") for f in findings), findings
    for text in (str(findings), output, caplog.text):
        assert long_name.decode() not in text


def _totp_code(device: Any, *, offset_steps: int = 0) -> str:
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def device(staff: Any) -> Any:
    """A confirmed TOTP device of the staff user."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)


def _sign_in_form(device: Any) -> dict[str, str]:
    return {
        "username": "examiner1",
        "password": PASSWORD,
        "next": "/admin/",
        "otp_device": device.persistent_id,
    }


@override_settings(OTP_REQUIRED=True)
def test_staff_sign_in_needs_a_totp_code(device: Any) -> None:
    client = Client()
    base = _sign_in_form(device)
    refused = client.post(LOGIN, {**base, "otp_token": ""})
    assert refused.status_code == 200 and "_auth_user_id" not in client.session
    assert 'name="otp_token"' in refused.content.decode()
    signed_in = client.post(LOGIN, {**base, "otp_token": _totp_code(device)})
    assert signed_in.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


@override_settings(OTP_REQUIRED=True)
def test_a_user_with_one_device_signs_in_with_password_and_code_at_once(device: Any) -> None:
    # django-otp lists the devices only after a first try; with a single device there is nothing to pick.
    client = Client()
    form = {k: v for k, v in _sign_in_form(device).items() if k != "otp_device"}
    signed_in = client.post(LOGIN, {**form, "otp_token": _totp_code(device)})
    assert signed_in.status_code == 302 and client.get(reverse("admin:index")).status_code == 200


@override_settings(OTP_REQUIRED=True)
def test_a_wrong_totp_code_is_refused_and_throttles_the_device(device: Any) -> None:
    client = Client()
    base = _sign_in_form(device)
    wrong = client.post(LOGIN, {**base, "otp_token": _totp_code(device, offset_steps=10)})
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session
    # django-otp's throttling: right after a failure even the right code waits (2 s and doubling).
    throttled = client.post(LOGIN, {**base, "otp_token": _totp_code(device)})
    assert throttled.status_code == 200 and "_auth_user_id" not in client.session
    assert "try again" in throttled.content.decode()


@override_settings(OTP_REQUIRED=True)
def test_wrong_totp_codes_are_audited_and_ten_lock_the_account(device: Any) -> None:
    client = Client()
    base = _sign_in_form(device)
    wrong = _totp_code(device, offset_steps=10)
    for _ in range(9):
        assert client.post(LOGIN, {**base, "otp_token": wrong}).status_code == 200  # the form, with its error
    assert client.post(LOGIN, {**base, "otp_token": wrong}).status_code == 429  # django-axes' lockout
    assert "_auth_user_id" not in client.session
    failed = AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED)
    assert list(failed.order_by().values_list("username", "outcome", "detail").distinct()) == [
        ("examiner1", AuditOutcome.DENIED, "second factor (TOTP code) refused")
    ]
    assert failed.count() == 10
    assert AuditEvent.objects.filter(action=AuditAction.LOCKOUT, username="examiner1").exists()
    flat = " ".join(str(v) for row in AuditEvent.objects.values_list() for v in row)
    assert wrong not in flat


@override_settings(OTP_REQUIRED=True)
def test_a_session_without_a_verified_device_is_not_staff(staff: Any) -> None:
    client = Client()
    client.force_login(staff)  # a password-only session
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert client.get(reverse("admin:members_member_changelist")).status_code == 302


def test_production_refuses_to_run_without_the_second_factor() -> None:
    result = _under_production_settings(["-c", "import django; django.setup()"], OTP_REQUIRED="False")
    assert result.returncode != 0 and "OTP_REQUIRED must stay on in production" in result.stderr


def test_parameters_reach_postgresql_apart_from_the_statement() -> None:
    # What the server received, as pg_stat_activity shows this very statement: the value travels as a bound
    # parameter, so a failing statement logged by PostgreSQL (log_min_error_statement) carries $1, not a name.
    # With Django's default client-side binding the text would read "'FRYE 1973-05-02'::text IS NOT NULL".
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT query FROM pg_stat_activity WHERE pid = pg_backend_pid() AND %s::text IS NOT NULL",
            ["FRYE 1973-05-02"],
        )
        (seen,) = cursor.fetchone()
    assert "$1::text IS NOT NULL" in seen and "FRYE" not in seen
