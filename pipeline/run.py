"""Driver: discover inputs, run the Beam pipeline, then write the _SUCCESS manifest last.

python -m pipeline.run --input URI_OR_GLOB [--input ...] --output URI
    [--source-system NAME] [--run-id ID] [beam options, e.g. --runner DataflowRunner ...]
"""

import argparse
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import (
    GoogleCloudOptions,
    PipelineOptions,
    SetupOptions,
    StandardOptions,
)

from pipeline.discovery import expand_inputs
from pipeline.manifest import OUTPUT_FILES, SUCCESS, build_manifest
from pipeline.parse import PATIENTS, RECORDS, REJECTS, STATS, TOTALS
from pipeline.sinks import WriteNdjson, join, read_json, write_bytes
from pipeline.stats import MergeStatsFn
from pipeline.transforms import ControlTotals, ParseFiles


@dataclass
class Plan:
    """What a constructed pipeline will read and write."""

    run_id: str
    output: str
    tmp_dir: str
    specs: list


def parse_args(argv):
    """Split argv into this pipeline's flags and the Beam options that remain."""
    parser = argparse.ArgumentParser(prog="python -m pipeline.run", description=__doc__)
    parser.add_argument("--input", action="append", required=True, help="file, glob or folder")
    parser.add_argument("--output", required=True, help="output folder (local or gs://)")
    parser.add_argument("--source-system", default=None, help="override the source system")
    parser.add_argument("--run-id", default=None, help="defaults to a UTC timestamp + random")
    return parser.parse_known_args(argv)


def _default_runner(options):
    """With no --runner, use the DirectRunner's in-process batch engine directly.

    DirectRunner would first try to download and start the Prism binary; the FnApiRunner is what
    it falls back to for this pipeline anyway, so skip the download and the detour.
    """
    if options.view_as(StandardOptions).runner:
        return None
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    return FnApiRunner()


def _honour_no_auth(options):
    """Make --no_auth mean anonymous gs:// access for this process (emulators, public buckets).

    Beam 2.77's GcsIO ignores --no_auth (only the Dataflow API client reads it) and first spends
    ~20 s retrying to find default credentials. Its process-wide credential cache is primed with
    "no credentials", which makes GcsIO build an anonymous storage client instead.
    """
    if not options.view_as(GoogleCloudOptions).no_auth:
        return
    try:
        from apache_beam.internal.gcp import auth

        with auth._Credentials._credentials_lock:
            auth._Credentials._credentials = None
            auth._Credentials._credentials_init = True
    except (ImportError, AttributeError):
        logging.warning("--no_auth: could not pre-empt Beam's credential lookup", exc_info=True)


def build_pipeline(argv=None, save_main_session=True):
    """Construct (but do not run) the pipeline; returns (beam.Pipeline, Plan)."""
    known, beam_args = parse_args(argv)
    options = PipelineOptions(beam_args)
    options.view_as(SetupOptions).save_main_session = save_main_session
    run_id = known.run_id or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]
    output = known.output.rstrip("/")
    plan = Plan(run_id, output, join(output, f"_tmp-{run_id}"), [])
    # Discovery runs before the pipeline exists; gs:// access must already see these options
    # (credentials, --no_auth, endpoints).
    FileSystems.set_options(options)
    _honour_no_auth(options)
    plan.specs = expand_inputs(known.input, known.source_system)
    pipeline = beam.Pipeline(runner=_default_runner(options), options=options)
    parsed = (
        pipeline
        | "File specs" >> beam.Create(plan.specs, reshuffle=False)
        | "Parse files" >> ParseFiles()
    )
    for tag in (PATIENTS, RECORDS, REJECTS):
        parsed[tag] | f"Write {tag}" >> WriteNdjson(output, OUTPUT_FILES[tag], plan.tmp_dir)
    (
        parsed[TOTALS]
        | "Control totals" >> ControlTotals()
        | "Write totals" >> WriteNdjson(output, OUTPUT_FILES[TOTALS], plan.tmp_dir)
    )
    stats_path = join(plan.tmp_dir, "stats.json")
    (
        parsed[STATS]
        | "All stats" >> beam.Flatten()
        | "Merge stats" >> beam.CombineGlobally(MergeStatsFn())
        | "Write stats" >> beam.Map(lambda s: write_bytes(stats_path, json.dumps(s).encode()))
    )
    return pipeline, plan


def run(argv=None, save_main_session=True):
    """Run the pipeline to completion and return the manifest written to <output>/_SUCCESS."""
    pipeline, plan = build_pipeline(argv, save_main_session)
    success = join(plan.output, SUCCESS)
    # A loader must never pair an old _SUCCESS with half-written new files.
    if FileSystems.exists(success):
        FileSystems.delete([success])
    result = pipeline.run()
    result.wait_until_finish()
    stats = read_json(join(plan.tmp_dir, "stats.json"))
    counts = {
        tag: read_json(join(plan.tmp_dir, f"{name}.count"))["lines"]
        for tag, name in OUTPUT_FILES.items()
    }
    manifest = build_manifest(plan.run_id, plan.output, plan.specs, stats, counts)
    write_bytes(success, json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8"))
    _cleanup(plan.tmp_dir)
    return manifest


def _cleanup(tmp_dir):
    try:
        matches = FileSystems.match([join(tmp_dir, "*")])[0].metadata_list
        FileSystems.delete([m.path for m in matches])
        if "://" not in tmp_dir:
            FileSystems.delete([tmp_dir])
    except Exception:  # leftover temp files are harmless; never fail a finished run for them
        logging.warning("could not remove %s", tmp_dir, exc_info=True)


def run_pipeline(inputs, output, source_system=None, run_id=None, extra_args=None):
    """In-process entry point for the app: run on the given inputs and return the manifest."""
    argv = [arg for uri in inputs for arg in ("--input", uri)] + ["--output", output]
    if source_system:
        argv += ["--source-system", source_system]
    if run_id:
        argv += ["--run-id", run_id]
    # Pickling the caller's __main__ (e.g. a Flask app) would be wrong and slow.
    return run(argv + list(extra_args or []), save_main_session=False)


if __name__ == "__main__":
    logging.getLogger().setLevel(logging.INFO)
    print(json.dumps(run()["counts"], indent=2))
