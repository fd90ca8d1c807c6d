"""Admin of the tps app, one module per concept."""

from tps.admin import elections, stations, voterlists  # noqa: F401
