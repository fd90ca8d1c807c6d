from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class InmatesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "inmates"
    verbose_name = _("Inmate register")

    def ready(self) -> None:
        from inmates import roles, signals  # noqa: F401

        # After every app: permissions of later apps exist only once they migrate.
        post_migrate.connect(roles.ensure_groups, dispatch_uid="inmates_ensure_groups")
