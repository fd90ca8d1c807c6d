"""Pages of the tps app (voter lists, planning, exports, dashboard)."""

from django.urls import include, path

app_name = "tps"

urlpatterns = [
    path("", include("tps.urls_voterlists")),
    path("", include("tps.urls_stations")),
]
