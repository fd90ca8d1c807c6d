"""Admin of the inmates app, one module per concept."""

from inmates.admin import audit, dedup, imports, register  # noqa: F401
