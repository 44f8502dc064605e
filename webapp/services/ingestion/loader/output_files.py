"""Reading one pipeline run's output folder (the contract pipeline/contract.py owns)."""

import json
from collections.abc import Iterator

import orjson

from pipeline.contract import RECORDS_FILE, SUCCESS, record_from_line
from webapp.services import storage


class OutputNotReady(Exception):
    """The output folder has no _SUCCESS manifest yet: the run is not finished."""


def read_manifest(output_uri: str) -> dict:
    """The run's _SUCCESS manifest; raises OutputNotReady when it is missing."""
    uri = storage.join(output_uri, SUCCESS)
    if not storage.exists(uri):
        raise OutputNotReady(f"no {SUCCESS} under {output_uri}")
    return json.loads(storage.read_text(uri))


def iter_rows(output_uri: str, name: str) -> Iterator[dict]:
    """The JSON objects of one output file, streamed."""
    uri = storage.join(output_uri, name)
    if not storage.exists(uri):
        return
    for line in storage.iter_lines(uri):
        if line.strip():
            yield _loads(line)


def _loads(line: str):
    # orjson parses totals.ndjson ~2.5x faster; what it refuses (NaN, integers over 64 bits)
    # is still valid to the stdlib, which then decides.
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


def iter_records(output_uri: str) -> Iterator[dict]:
    """The canonical records of records.tsv, streamed."""
    uri = storage.join(output_uri, RECORDS_FILE)
    if not storage.exists(uri):
        return
    for line in storage.iter_lines(uri):
        if line:
            yield record_from_line(line)


def batched(rows: Iterator[dict], size: int) -> Iterator[list[dict]]:
    """Group a stream into lists of at most `size`."""
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
