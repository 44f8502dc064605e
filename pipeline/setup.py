"""Packaging so Dataflow workers can install the pipeline with --setup_file pipeline/setup.py."""

import setuptools

setuptools.setup(
    name="aikey-pipeline",
    version="0.1.0",
    description="aiKey ingestion pipeline (Apache Beam)",
    # setup.py lives inside the package folder; the package root is its parent.
    package_dir={"pipeline": "."},
    packages=["pipeline"],
    python_requires=">=3.11",
    install_requires=[],  # apache-beam[gcp] is provided by the Dataflow worker image
)
