"""Helpers every layer may use: the clock, pages of a query, spreadsheet-safe CSV."""
