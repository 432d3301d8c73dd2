from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django_prometheus import exports


def metrics_view(request: HttpRequest) -> HttpResponse:
    """django-prometheus's exporter, for the addresses in ``settings.METRICS_ALLOWED_IPS`` only (any address when
    it is None: development and tests). The peer address, not a header a client could write, decides."""
    allowed = settings.METRICS_ALLOWED_IPS
    if allowed is not None and request.META.get("REMOTE_ADDR") not in allowed:
        raise PermissionDenied("metrics are served to the monitoring network only")
    response: HttpResponse = exports.ExportToDjangoView(request)
    return response


urlpatterns = [
    path("admin/", admin.site.urls),
    path("analytics/", include("analytics.urls")),
    path("metrics", metrics_view, name="prometheus-django-metrics"),
]
