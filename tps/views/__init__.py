"""Views of the tps app, one module per feature."""
