"""The claim page's ICD-10-CM titles from several threads at once, as gunicorn's gthread workers serve it.

simple_icd_10_cm fills its code lists on first use without a lock; two threads at once read a half-filled list
(the load test's 500s on the claim page). In a fresh process, so the lists are not filled yet; run with and
without ``claims.codes.ICD10CM_LOCK`` (the negative control: the same threads fail without it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import contextlib, sys, threading
import django
django.setup()
from claims import admin as claims_admin, codes

if sys.argv[1] == "unlocked":
    claims_admin.ICD10CM_LOCK = contextlib.nullcontext()
claims_admin._icd()  # imported (1-2 s) before the threads start: the race is in the first calls
codes_ = ["E119", "I10", "J449", "M545", "Z0000", "K219", "N390", "F329"]
barrier = threading.Barrier(len(codes_))
failures = []

def show(code):
    barrier.wait()
    try:
        claims_admin.icd10cm_shown(code)
    except Exception as exc:  # noqa: BLE001 - counted, the type printed
        failures.append(type(exc).__name__)

threads = [threading.Thread(target=show, args=(c,)) for c in codes_]
for t in threads:
    t.start()
for t in threads:
    t.join()
shown = [claims_admin.icd10cm_shown(c)[0] for c in codes_] if not failures else []
print(len(failures), ",".join(shown))
"""


def _run(mode: str) -> tuple[int, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_REPLICA_URL": ""}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    failures, _, shown = out.stdout.strip().splitlines()[-1].partition(" ")
    return int(failures), shown


def test_icd10cm_titles_from_eight_threads_at_once() -> None:
    failures, shown = _run("locked")
    assert failures == 0
    assert shown == "E11.9,I10,J44.9,M54.5,Z00.00,K21.9,N39.0,F32.9"


def test_without_the_lock_the_same_threads_fail() -> None:
    # The race needs the library's lazy fill to interleave; three tries make a miss unlikely.
    assert any(_run("unlocked")[0] > 0 for _ in range(3))
