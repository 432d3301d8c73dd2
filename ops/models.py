"""Operations: permissions for the database-health pages (reports, advisor, EXPLAIN, activity).

Maintenance job models (task-run log, partition archives, audit log) are added beside this by the
maintenance work.
"""

from __future__ import annotations

from django.db import models


class OpsAccess(models.Model):
    """Holds the ops permissions only; it has no table (``managed = False``) and is never queried.

    * ``view_ops_reports``: staff who may open the ops pages (slow queries, indexes, tables, advisor, activity).
    * ``reset_pg_stat_statements``: may reset pg_stat_statements (separate, with confirmation).
    * ``explain_query`` / ``cancel_backend`` are reserved to superusers by the views themselves.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_ops_reports", "Can view database health reports"),
            ("reset_pg_stat_statements", "Can reset pg_stat_statements"),
        ]
