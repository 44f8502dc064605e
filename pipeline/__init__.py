"""aiKey ingestion pipeline: hospital exports to canonical NDJSON for the loader."""
