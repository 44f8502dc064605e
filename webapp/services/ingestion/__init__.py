"""Ingestion runs: started once, run locally or on Dataflow, loaded from storage events."""
