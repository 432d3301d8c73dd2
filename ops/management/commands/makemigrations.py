"""makemigrations that understands both partitioned models and materialized views.

django-pgviews-redux overrides makemigrations with its own autodetector, and psqlextra's pgmakemigrations does
not use it; each alone writes wrong migrations for the other's models (STACK.md bug 3). This command uses
pgviews' autodetector inside psqlextra's patched migration state. The ``ops`` app is listed before
``django_pgviews`` in INSTALLED_APPS so this command is the one Django finds.

A fourth psqlextra 3.0.1 bug is worked round here too: its partitioned model state calls ``issubclass()`` on
every base of a partitioned model, and the base of a proxy (the examiners' work queue over claims) is the
string "claims.claim", so the autodetector crashed on any proxy of a partitioned model. A proxy has no table of
its own: it gets Django's plain model state.
"""

from typing import Any
from unittest import mock

from django.db.migrations.state import ModelState
from django_pgviews.management.commands.makemigrations import Command as PgViewsMakeMigrations
from psqlextra.backend.migrations import postgres_patched_migrations
from psqlextra.backend.migrations.state import PostgresPartitionedModelState

_partitioned_state = PostgresPartitionedModelState.from_model.__func__  # type: ignore[attr-defined]


def _from_model(cls: type, model: Any, *args: Any, **kwargs: Any) -> ModelState:
    if model._meta.proxy:
        return ModelState.from_model(model, *args, **kwargs)
    return _partitioned_state(cls, model, *args, **kwargs)  # type: ignore[no-any-return]


class Command(PgViewsMakeMigrations):
    def handle(self, *app_labels: Any, **options: Any) -> None:
        # mock.patch.object is only the context manager that puts the classmethod back afterwards; the patch is
        # a real replacement used by the real autodetector, not a test double.
        with (
            postgres_patched_migrations(),
            mock.patch.object(PostgresPartitionedModelState, "from_model", classmethod(_from_model)),
        ):
            super().handle(*app_labels, **options)
