"""Demo data: reference data and users, synthetic patients, demo export files, bulk seeding."""
