"""Driver: build the Beam pipeline, run it, and return the _SUCCESS manifest it wrote last.

python -m pipeline.run --input URI_OR_GLOB [--input ...] --output URI
    [--source-system NAME] [--run-id ID] [beam options, e.g. --runner DataflowRunner ...]

Everything that depends on the inputs happens inside the pipeline at run time (deleting a stale
_SUCCESS, discovering the files, writing _SUCCESS), so the same graph works as a Dataflow classic
template: build it with --template_location and no --input/--output/--run-id, and launch it with
the parameters input (comma-separated), output, run_id and optionally source_system.
"""

import argparse
import json
import logging
from dataclasses import dataclass

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import (
    GoogleCloudOptions,
    PipelineOptions,
    SetupOptions,
    StandardOptions,
    TypeOptions,
)
from apache_beam.pvalue import AsList

from pipeline.contract import OUTPUT_FILES, SUCCESS, new_run_id
from pipeline.discovery import expand_inputs
from pipeline.manifest import WriteManifestDoFn, manifest_path
from pipeline.params import AikeyOptions, RunParams, static
from pipeline.parse import PATIENTS, RECORDS, REJECTS, STATS, TOTALS
from pipeline.sinks import delete_if_exists, join, read_json, write_files
from pipeline.transforms import ControlTotals, ParseFiles

TEMPLATE_PARAMETERS = ("input", "output", "run_id", "source_system")


@dataclass
class Plan:
    """What a constructed pipeline will read and write; None where only known at run time."""

    run_id: str | None
    output: str | None
    tmp_dir: str | None
    params: RunParams
    template: bool = False


def parse_args(argv):
    """Split argv into this pipeline's flags and the Beam options that remain."""
    parser = argparse.ArgumentParser(prog="python -m pipeline.run", description=__doc__)
    parser.add_argument("--input", action="append", help="file, glob or folder (repeatable)")
    parser.add_argument("--output", default=None, help="output folder (local or gs://)")
    parser.add_argument(
        "--source-system",
        "--source_system",
        dest="source_system",
        default=None,
        help="override the source system",
    )
    parser.add_argument(
        "--run-id",
        "--run_id",
        dest="run_id",
        default=None,
        help="defaults to a UTC timestamp + random",
    )
    known, beam_args = parser.parse_known_args(argv)
    template = PipelineOptions(beam_args).view_as(GoogleCloudOptions).template_location
    if template:
        baked = [
            flag
            for flag, value in (
                ("--input", known.input),
                ("--output", known.output),
                ("--run-id", known.run_id),
            )
            if value
        ]
        if baked:
            parser.error(
                f"{', '.join(baked)}: with --template_location these are template parameters "
                "(input, output, run_id) given at launch; do not fix them at build time"
            )
    elif not known.input or not known.output:
        parser.error("--input and --output are required (unless building a template)")
    return known, beam_args


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


def _clear_stale_success(_, params):
    # A loader must never pair an old _SUCCESS with half-written new files.
    delete_if_exists(manifest_path(params))


def _discover(_, params):
    return expand_inputs(params.inputs(), params.source_system())


def build_pipeline(argv=None, save_main_session=True):
    """Construct (but do not run) the pipeline; returns (beam.Pipeline, Plan).

    Reads no input and touches no network: with --template_location the run parameters stay
    RuntimeValueProviders, read only by the running job.
    """
    known, beam_args = parse_args(argv)
    options = PipelineOptions(beam_args)
    options.view_as(SetupOptions).save_main_session = save_main_session
    # Beam's construction-time type inference cost ~0.25 s of a 3.8 s run at 1M rows and checks
    # nothing here: no transform of this pipeline declares type hints.
    options.view_as(TypeOptions).pipeline_type_check = False
    if options.view_as(GoogleCloudOptions).template_location:
        runtime = options.view_as(AikeyOptions)
        source = static(known.source_system) if known.source_system else runtime.source_system
        params = RunParams(runtime.input, runtime.output, runtime.run_id, source)
        plan = Plan(None, None, None, params, template=True)
    else:
        run_id = known.run_id or new_run_id()
        params = RunParams(
            static(list(known.input)),
            static(known.output),
            static(run_id),
            static(known.source_system),
        )
        plan = Plan(run_id, params.output(), params.tmp_dir(), params)
    # In-process runs read gs:// with these options (credentials, --no_auth, endpoints).
    FileSystems.set_options(options)
    _honour_no_auth(options)
    pipeline = beam.Pipeline(runner=_default_runner(options), options=options)
    specs = (
        pipeline
        | "Start" >> beam.Create([None], reshuffle=False)
        | "Clear stale _SUCCESS" >> beam.Map(_clear_stale_success, params)
        | "Discover inputs" >> beam.FlatMap(_discover, params)
    )
    # ParseFiles begins with a Reshuffle, so the discovered files are parsed in parallel.
    parsed = specs | "Parse files" >> ParseFiles()
    output, tmp_dir = params.output_provider(), params.tmp_dir_provider()
    totals = parsed[TOTALS] | "Control totals" >> ControlTotals()
    outputs = {OUTPUT_FILES[tag]: parsed[tag] for tag in (PATIENTS, RECORDS, REJECTS)}
    line_counts = write_files({**outputs, OUTPUT_FILES[TOTALS]: (totals,)}, output, tmp_dir)
    stats = parsed[STATS] | "All stats" >> beam.Flatten()
    # Last step: runs only when every side input is complete, i.e. every file is written.
    (
        pipeline
        | "Finish" >> beam.Create([None], reshuffle=False)
        | "Write _SUCCESS"
        >> beam.ParDo(
            WriteManifestDoFn(params),
            line_counts=AsList(line_counts),
            stats=AsList(stats),
            specs=AsList(specs),
        )
    )
    return pipeline, plan


def run(argv=None, save_main_session=True):
    """Run the pipeline to completion and return the manifest it wrote to <output>/_SUCCESS.

    With --template_location this only creates the template and returns None.
    """
    pipeline, plan = build_pipeline(argv, save_main_session)
    result = pipeline.run()
    if plan.template:
        return None
    result.wait_until_finish()
    return read_json(join(plan.output, SUCCESS))


def local_worker_args(workers):
    """Beam options to run the local pipeline in `workers` processes (0: one per core).

    1 keeps the in-process runner (no worker start-up, best for small runs); more uses the
    DirectRunner's multi_processing mode, whose workers share the files and their blocks.
    """
    if workers == 1:
        return []
    return ["--direct_num_workers", str(workers), "--direct_running_mode", "multi_processing"]


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
    manifest = run()
    if manifest is None:
        print("template created; launch parameters: " + ", ".join(TEMPLATE_PARAMETERS))
    else:
        print(json.dumps(manifest["counts"], indent=2))
