"""Pages of TPS planning, ballots, DPT exports, the recap and the dashboard."""

from django.urls import path

from tps.views import dashboard, runs, stations

urlpatterns = [
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("tps/", stations.stations_index, name="stations_index"),
    path("tps/<slug:election_code>/recap/", stations.stations_recap, name="stations_recap"),
    # Before the facility pages: "runs" would otherwise be read as an election or facility code.
    path("tps/runs/<int:pk>/", runs.station_run, name="station_run"),
    path("tps/runs/<int:pk>/download/", runs.station_run_download, name="station_run_download"),
    path("tps/<slug:election_code>/runs/", runs.station_runs, name="station_runs"),
    path(
        "tps/<slug:election_code>/<slug:facility_code>/", stations.stations_facility, name="stations_facility"
    ),
    path("tps/<slug:election_code>/<slug:facility_code>/plan/", stations.stations_plan, name="stations_plan"),
    path(
        "tps/<slug:election_code>/<slug:facility_code>/logistics/",
        stations.stations_fix_logistics,
        name="stations_fix_logistics",
    ),
    path(
        "tps/<slug:election_code>/<slug:facility_code>/export/<str:fmt>/",
        stations.stations_export,
        name="stations_export",
    ),
    path(
        "tps/<slug:election_code>/<slug:facility_code>/print/", stations.stations_print, name="stations_print"
    ),
    path(
        "tps/<slug:election_code>/<slug:facility_code>/tps-<str:number>/",
        stations.stations_tps,
        name="stations_tps",
    ),
]
