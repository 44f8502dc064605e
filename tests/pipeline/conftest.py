"""Fixtures for the Beam pipeline tests: a local runner (no servers, no web app)."""

import apache_beam as beam
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.test_pipeline import TestPipeline


@pytest.fixture
def make_pipeline():
    """Return a factory for TestPipelines on the in-process runner (no Prism download)."""
    return lambda: TestPipeline(
        runner=FnApiRunner(), options=beam.options.pipeline_options.PipelineOptions([])
    )
