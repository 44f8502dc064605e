"""Monthly cost per patient: recomputation, cost table, chart series, their cache, live events."""
