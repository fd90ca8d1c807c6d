"""Admin pages for imports and exports (filled in by that feature)."""
