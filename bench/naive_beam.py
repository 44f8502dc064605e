"""The original platform's approach, as a baseline: per-element Map, GroupByKey, Python sum."""

import sys

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions


def parse(line: str):
    """(patient_id, month) -> cost for one legacy CSV line; the header is dropped."""
    fields = line.split(",")
    if fields[0] == "id":
        return []
    return [((fields[1], fields[2][:7]), float(fields[6]))]


def run(input_glob: str, output: str) -> None:
    """Sum cost per patient and month into a text file."""
    with beam.Pipeline(options=PipelineOptions(["--runner", "DirectRunner"])) as pipeline:
        (
            pipeline
            | beam.io.ReadFromText(input_glob)
            | beam.FlatMap(parse)
            | beam.GroupByKey()
            | beam.Map(lambda kv: f"{kv[0][0]},{kv[0][1]},{sum(kv[1]):.2f}")
            | beam.io.WriteToText(output)
        )


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2])
