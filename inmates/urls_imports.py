"""URLs of the inmate import pages and the template download (namespace ``inmates``)."""

from django.urls import path

from inmates.views import imports, imports_export

urlpatterns = [
    path("imports/", imports.import_upload, name="import_upload"),
    path("imports/template.xlsx", imports_export.import_template, name="import_template"),
    path("imports/<int:pk>/", imports.import_detail, name="import_detail"),
    path("imports/<int:pk>/status.json", imports.import_status, name="import_status"),
    path("imports/<int:pk>/confirm/", imports.import_confirm, name="import_confirm"),
    path("imports/<int:pk>/cancel/", imports.import_cancel, name="import_cancel"),
    path("imports/<int:pk>/problems.csv", imports.import_problems_csv, name="import_problems_csv"),
]
