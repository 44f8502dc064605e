"""Packaging so Dataflow workers can install the pipeline with --setup_file pipeline/setup.py."""

import os

import setuptools

HERE = os.path.dirname(os.path.abspath(__file__))

setuptools.setup(
    name="aikey-pipeline",
    version="0.1.0",
    description="aiKey ingestion pipeline (Apache Beam)",
    # setup.py lives inside the package folder; the package root is its parent.
    package_dir={"pipeline": HERE},
    packages=["pipeline"],
    python_requires=">=3.11",
    install_requires=[],  # apache-beam[gcp] is provided by the Dataflow worker image
)
