"""Logic shared by views, hooks and the CLI, one package per domain (plus the storage interface)."""
