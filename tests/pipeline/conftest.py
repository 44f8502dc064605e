"""Fixtures for the Beam pipeline tests: sample data location, a local runner, parse helpers."""

import sys
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.test_pipeline import TestPipeline

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pipeline.discovery import expand_inputs  # noqa: E402
from pipeline.parse import PATIENTS, RECORDS, REJECTS, STATS, TOTALS  # noqa: E402
from pipeline.stats import MergeStatsFn  # noqa: E402
from pipeline.transforms import ControlTotals, ParseFiles, explode  # noqa: E402


@pytest.fixture
def make_pipeline():
    """Return a factory for TestPipelines on the in-process runner (no Prism download)."""
    return lambda: TestPipeline(
        runner=FnApiRunner(), options=beam.options.pipeline_options.PipelineOptions([])
    )


def parse_inputs(p, inputs, source_system=None, label="Parse"):
    """Apply ParseFiles to real files; return {tag: PCollection of dicts} (stats merged)."""
    specs = expand_inputs([str(i) for i in inputs], source_system)
    parsed = p | f"{label} specs" >> beam.Create(specs) | f"{label} files" >> ParseFiles()
    out = {}
    for tag in (RECORDS, PATIENTS, REJECTS):
        out[tag] = (
            parsed[tag]
            | f"{label} flatten {tag}" >> beam.Flatten()
            | f"{label} explode {tag}" >> beam.FlatMap(explode)
        )
    out[TOTALS] = (
        parsed[TOTALS]
        | f"{label} totals" >> ControlTotals()
        | f"{label} explode totals" >> beam.FlatMap(explode)
    )
    out[STATS] = (
        parsed[STATS]
        | f"{label} flatten stats" >> beam.Flatten()
        | f"{label} merge stats" >> beam.CombineGlobally(MergeStatsFn())
    )
    return out


def write_file(folder, relpath, content):
    """Write str or bytes to folder/relpath, creating folders; return the path."""
    path = Path(folder) / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path
