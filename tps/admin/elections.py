"""Admin pages (filled in by the feature that owns them)."""
