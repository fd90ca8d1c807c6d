"""Admin pages for duplicate review and DPT records (filled in by that feature)."""
