"""Every Celery beat schedule of the platform, declared in one place.

``sync_schedules`` writes them into django-celery-beat's tables (the DatabaseScheduler reads those, and the
admin shows and edits them). It is idempotent: schedules are matched by name, and an interval or crontab an
operator changed in the admin is kept unless ``reset=True``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.db import transaction


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    every_minutes: int | None = None
    crontab: str | None = None  # "minute hour day_of_month month_of_year day_of_week"
    args: tuple[object, ...] = field(default_factory=tuple)


SCHEDULES: tuple[Schedule, ...] = (
    Schedule(
        "analytics: real-time views",
        "analytics.tasks.refresh_view_group",
        every_minutes=5,
        args=("realtime",),
    ),
    Schedule(
        "analytics: day-grain views", "analytics.tasks.refresh_view_group", every_minutes=60, args=("daily",)
    ),
    Schedule(
        "analytics: month-grain views",
        "analytics.tasks.refresh_view_group",
        every_minutes=30,
        args=("analytics",),
    ),
    Schedule("analytics: rebuild day summaries", "analytics.tasks.rebuild_summaries", crontab="30 2 * * *"),
    # The payment cycle: 835s for every decided claim not yet remitted (claims.services.remittance), Fridays.
    Schedule("claims: 835 payment cycle", "claims.tasks.remit_cycle", crontab="0 6 * * 5"),
    # The months each claim state is in are written as deltas (claims.services.lifecycle); folded hourly.
    Schedule("claims: compact month counts", "claims.tasks.month_counts_compact", every_minutes=60),
    # Maintenance (ops.tasks): each job holds an advisory lock, so an overlapping run is skipped.
    # Rollover, DEFAULT repair and retention (archive, verify, drop) are one job: daily.
    Schedule("ops: partition maintenance", "ops.tasks.partitions_maintain", crontab="15 1 * * *"),
    Schedule("ops: cleanup expired rows", "ops.tasks.cleanup_expired", crontab="45 3 * * *"),
    Schedule("ops: reindex bloated indexes", "ops.tasks.reindex_bloated", crontab="30 4 * * 0"),
)


def sync_schedules(*, reset: bool = False) -> list[str]:
    """Create or update the periodic tasks of ``SCHEDULES``; returns the names created or changed."""
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    changed: list[str] = []
    with transaction.atomic():
        for s in SCHEDULES:
            defaults: dict[str, object] = {"task": s.task, "args": json.dumps(list(s.args))}
            if s.every_minutes is not None:
                interval, _ = IntervalSchedule.objects.get_or_create(
                    every=s.every_minutes, period=IntervalSchedule.MINUTES
                )
                defaults.update(interval=interval, crontab=None)
            else:
                assert s.crontab is not None
                minute, hour, dom, month, dow = s.crontab.split()
                cron, _ = CrontabSchedule.objects.get_or_create(
                    minute=minute,
                    hour=hour,
                    day_of_month=dom,
                    month_of_year=month,
                    day_of_week=dow,
                    timezone="UTC",
                )
                defaults.update(crontab=cron, interval=None)
            task = PeriodicTask.objects.filter(name=s.name).first()
            if task is None:
                PeriodicTask.objects.create(name=s.name, **defaults)
                changed.append(s.name)
            elif reset or task.task != s.task or task.args != defaults["args"]:
                for key, value in defaults.items():
                    setattr(task, key, value)
                task.save()
                changed.append(s.name)
    return changed
