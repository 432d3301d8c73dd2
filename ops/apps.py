from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The maintenance records' admin pages (ops/admin.py is the database-health pages' module).
        from ops import admin_maintenance  # noqa: F401

        # Database-health and maintenance gauges on /metrics (django-prometheus's registry).
        from ops.metrics import register

        register()
