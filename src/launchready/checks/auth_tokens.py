"""auth row: placeholder module, filled in by its own piece of work."""
