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

        # Every migrate ends by granting the app and reporting roles their privileges (ops/roles.py).
        from django.db.models.signals import post_migrate

        from ops.roles import grants_after_migrate

        post_migrate.connect(grants_after_migrate, sender=self, dispatch_uid="ops.roles.grants")

        # Sign-ins, sign-outs, failed sign-ins and lockouts are audit events; a sign-in starts the session's
        # absolute lifetime (ops/platform/sessions.py).
        from django.contrib.auth.signals import user_logged_in

        from ops.platform.audit import audit_sign_in_connect
        from ops.platform.sessions import session_started

        audit_sign_in_connect()
        user_logged_in.connect(session_started, dispatch_uid="ops.sessions.started")
