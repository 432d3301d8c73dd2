"""Work that runs after a batch of claims commits, in the apps above ``claims``: sent by Celery task name.

``claims`` sits below ``analytics`` and the ops jobs and never imports them (the import-linter layers in
pyproject.toml). What follows a batch is a registry in settings, ``CLAIMS_BATCH_FOLLOW_UPS``: for each event
("loaded", "validated", "decided") a list of (task name, on/off setting name or ""), each sent with
``kwargs={"batch_id": ...}``. Call only from ``transaction.on_commit``: never enqueue before the data exists.
"""

from __future__ import annotations

from celery import current_app
from django.conf import settings

EVENTS = ("loaded", "validated", "decided")


def batch_follow_ups_send(*, event: str, batch_id: int) -> list[str]:
    """Send every follow-up task of ``event`` for batch ``batch_id``; returns the task names sent.

    A follow-up whose on/off setting is False is skipped (tests switch the analytics refresh off).
    Raises ``ValueError`` for an unknown event.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown batch event {event!r}")
    sent: list[str] = []
    for task_name, switch in getattr(settings, "CLAIMS_BATCH_FOLLOW_UPS", {}).get(event, ()):
        if switch and not getattr(settings, switch, True):
            continue
        current_app.send_task(task_name, kwargs={"batch_id": batch_id})
        sent.append(task_name)
    return sent
