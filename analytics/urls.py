"""/analytics/: the pages for internal users, their exports, and one JSON endpoint per chart under api/."""

from django.urls import path

from analytics import api, views

app_name = "analytics"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("icd10/", views.icd10, name="icd10"),
    path("plans/", views.plans, name="plans"),
    path("providers/", views.providers, name="providers"),
    path("flow/", views.flow, name="flow"),
    path("failed/", views.failed, name="failed"),
    path("report/", views.report, name="report"),
    path("report/csv/", views.report_csv, name="report-csv"),
    path("report/pdf/", views.report_pdf, name="report-pdf"),
    path("api/overview/daily/", api.overview_daily, name="api-overview-daily"),
    path("api/icd10/breakdown/", api.icd10_breakdown, name="api-icd10-breakdown"),
    path("api/icd10/monthly/", api.icd10_monthly, name="api-icd10-monthly"),
    path("api/plans/", api.plans, name="api-plans"),
    path("api/providers/top/", api.top_providers, name="api-providers-top"),
    path("api/flow/sankey/", api.flow_sankey, name="api-flow-sankey"),
    path("api/failed/monthly/", api.failed_monthly, name="api-failed-monthly"),
    path("api/failed/carc/", api.failed_carc, name="api-failed-carc"),
    path("api/report/plans/", api.report_plans, name="api-report-plans"),
]
