"""Root URLs. The admin is the main interface; apps add their own pages."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False), name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("register/", include("inmates.urls")),
    path("elections/", include("tps.urls")),
]
