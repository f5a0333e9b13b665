"""Schema extensions: one per file, each named for what it does."""
