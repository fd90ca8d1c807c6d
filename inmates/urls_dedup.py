"""Pages of the duplicate review (data ganda) and the DPT upload, under /register/."""

from django.urls import path

from inmates.views import dedup

urlpatterns = [
    path("duplicates/<int:pk>/", dedup.duplicate_compare, name="duplicate_compare"),
    path("duplicates/<int:pk>/merge/", dedup.duplicate_merge, name="duplicate_merge"),
    path("duplicates/<int:pk>/dismiss/", dedup.duplicate_dismiss, name="duplicate_dismiss"),
    path("duplicates/<int:pk>/confirm-dpt/", dedup.dpt_match_confirm, name="dpt_match_confirm"),
    path("duplicates/runs/start/", dedup.run_start, name="dedup_run_start"),
    path("duplicates/runs/<int:pk>/", dedup.run_detail, name="dedup_run"),
    path("duplicates/runs/<int:pk>/status/", dedup.run_status, name="dedup_run_status"),
    path("dpt/upload/", dedup.dpt_upload, name="dpt_upload"),
]
