"""URLs of the potential-voter lists, their reports and the projection (namespace ``tps``)."""

from django.urls import path

from tps.views import voterlists, voterlists_reports, voterlists_runs

urlpatterns = [
    path("voterlists/generate/", voterlists.generate, name="voterlist_generate"),
    path("voterlists/<int:pk>/", voterlists.detail, name="voterlist_detail"),
    path("voterlists/<int:pk>/regenerate/", voterlists.regenerate, name="voterlist_regenerate"),
    path("voterlists/<int:pk>/submit/", voterlists.submit, name="voterlist_submit"),
    path("voterlists/<int:pk>/accept/", voterlists.accept, name="voterlist_accept"),
    path("voterlists/<int:pk>/return/", voterlists.return_list, name="voterlist_return"),
    path("voterlists/<int:pk>/changes/", voterlists_reports.version_changes, name="voterlist_changes"),
    path("voterlists/<int:pk>/export.xlsx", voterlists_reports.export, name="voterlist_export"),
    path("facilities/<int:pk>/changes/", voterlists_reports.facility_changes, name="facility_changes"),
    path(
        "facilities/<int:pk>/projection/<int:election_pk>/",
        voterlists_reports.facility_projection,
        name="facility_projection",
    ),
    path("election/<int:pk>/eligibility/", voterlists_runs.election_eligibility, name="election_eligibility"),
    path("eligibility-runs/<int:pk>/", voterlists_runs.eligibility_run, name="eligibility_run"),
]
