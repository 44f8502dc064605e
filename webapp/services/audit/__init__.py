"""The audit trail: writing its rows and reading them back (filters, pages, CSV)."""
