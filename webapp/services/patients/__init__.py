"""Patients: search across systems, the chart's visits and name normalisation."""
