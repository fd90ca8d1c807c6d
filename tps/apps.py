from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TpsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tps"
    verbose_name = _("Elections and TPS")
