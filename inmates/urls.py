"""Pages of the inmates app (imports, exports, duplicate review)."""

from django.urls import include, path

app_name = "inmates"

urlpatterns = [
    path("", include("inmates.urls_imports")),
    path("", include("inmates.urls_dedup")),
]
