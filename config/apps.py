"""Django's admin app with the platform's admin site as its default site (config/admin_site.py)."""

from django.contrib.admin.apps import AdminConfig


class PlatformAdminConfig(AdminConfig):
    default_site = "config.admin_site.PlatformAdminSite"
