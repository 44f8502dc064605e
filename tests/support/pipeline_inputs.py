"""Input files for pipeline tests, ParseFiles applied to them, and output files read back."""

import json
from pathlib import Path

import apache_beam as beam

from pipeline.contract import RECORDS_FILE, record_from_line
from pipeline.discovery import expand_inputs
from pipeline.parse import PATIENTS, RECORDS, REJECTS, STATS, TOTALS
from pipeline.stats import stats_by_file
from pipeline.transforms import ControlTotals, ParseFiles, explode, explode_records


def parse_inputs(p, inputs, source_system=None, label="Parse"):
    """Apply ParseFiles to real files; return {tag: PCollection of dicts} (stats merged)."""
    specs = expand_inputs([str(i) for i in inputs], source_system)
    parsed = p | f"{label} specs" >> beam.Create(specs) | f"{label} files" >> ParseFiles()
    out = {}
    for tag in (RECORDS, PATIENTS, REJECTS):
        out[tag] = (
            parsed[tag]
            | f"{label} flatten {tag}" >> beam.Flatten()
            | f"{label} explode {tag}"
            >> beam.FlatMap(explode_records if tag == RECORDS else explode)
        )
    out[TOTALS] = (
        parsed[TOTALS]
        | f"{label} totals" >> ControlTotals()
        | f"{label} explode totals" >> beam.FlatMap(explode)
    )
    out[STATS] = (
        parsed[STATS]
        | f"{label} flatten stats" >> beam.Flatten()
        | f"{label} collect stats" >> beam.combiners.ToList()
        | f"{label} merge stats" >> beam.Map(stats_by_file)
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


def read_lines(path):
    """The rows of one output file as dicts: JSON objects, or canonical records of records.tsv."""
    text = Path(path).read_text(encoding="utf-8")
    if Path(path).name == RECORDS_FILE:
        return [record_from_line(line) for line in text.split("\n") if line]
    return [json.loads(line) for line in text.splitlines()]
