"""Pure helpers every layer may use: the clock, page numbers, spreadsheet-safe CSV."""
