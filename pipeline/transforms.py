"""Labelled composite transforms: parse files, price NDJSON records, compute control totals."""

import json

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.timestamp import MIN_TIMESTAMP
from apache_beam.utils.windowed_value import WindowedValue

from pipeline.canonical import dumps, encode_lines
from pipeline.contract import cents, record_from_line, record_line
from pipeline.fhir import apply_costs
from pipeline.parse import (
    FACTS,
    PATIENTS,
    PENDING,
    RECORDS,
    REJECTS,
    STATS,
    TOTALS,
    ParseFileDoFn,
    split_file,
    total_key,
)
from pipeline.stats import merge_totals
from pipeline.totals_tables import compact, from_map, pack, total_lines, unpack

# Packed totals in a combiner's accumulator are summed once they hold this many bytes (with two
# local worker processes every block is a bundle: a bigger bound held ~700 MB more at 1M rows).
MAX_PACKED_BYTES = 16 * 1024 * 1024


class PriceRecordsDoFn(beam.DoFn):
    """Join NDJSON Encounters/MedicationRequests with the Claims/EOBs that price them."""

    def __init__(self):
        super().__init__()
        self.unresolved = Metrics.counter("aikey_pipeline", "rejected_unresolved_reference")
        self.partial = {}

    def start_bundle(self):
        self.partial = {}

    def finish_bundle(self):
        if self.partial:
            windowed = WindowedValue(pack(from_map(self.partial)), MIN_TIMESTAMP, [GlobalWindow()])
            yield beam.pvalue.TaggedOutput(TOTALS, windowed)
        self.partial = {}

    def process(self, element):
        _, grouped = element
        records, facts = list(grouped["records"]), list(grouped["facts"])
        if not records:
            for fact in facts:
                row = dict(fact["reject"], detail=f"no record for {element[0][1]}")
                self.unresolved.inc()
                yield beam.pvalue.TaggedOutput(REJECTS, encode_lines([dumps(row)]))
                delta = {"file": row["file"], "rejected": {"unresolved_reference": 1}}
                yield beam.pvalue.TaggedOutput(STATS, delta)
            return
        for record in records:
            apply_costs(record, facts)
            merge_totals(self.partial, {total_key(record): [cents(record["cost"]), 1]})
            yield encode_lines([record_line(record)])


class ParseFiles(beam.PTransform):
    """File specs -> {tag: tuple of PCollections}: records/patients/rejects as line batches,
    totals as partial totals tables (pipeline.totals_tables), and per-file stats rows."""

    def expand(self, specs):
        parsed = (
            specs
            | "Spread files" >> beam.Reshuffle()
            | "Split big files" >> beam.FlatMap(split_file)
            | "Spread blocks" >> beam.Reshuffle()
            | "Parse file"
            >> beam.ParDo(ParseFileDoFn()).with_outputs(
                PATIENTS, REJECTS, TOTALS, STATS, PENDING, FACTS, main=RECORDS
            )
        )
        priced = (
            {"records": parsed[PENDING], "facts": parsed[FACTS]}
            | "Join costs" >> beam.CoGroupByKey()
            | "Price records"
            >> beam.ParDo(PriceRecordsDoFn()).with_outputs(REJECTS, TOTALS, STATS, main=RECORDS)
        )
        # No Flatten before the writers: in the in-process runner a Flatten of two stages' outputs
        # is a fusion break that buffers every record in memory. Writers take both PCollections.
        out = {PATIENTS: (parsed[PATIENTS],)}
        for tag in (RECORDS, REJECTS, TOTALS, STATS):
            out[tag] = (parsed[tag], priced[tag])
        return out


class SumTotalsFn(beam.CombineFn):
    """Sum packed totals tables exactly (integer cents) into one table, a row per key.

    The accumulator is a list of packed tables (pipeline.totals_tables.pack), summed by Arrow
    whenever it grows past a bound, so it holds about one row per key; the runner lifts it
    (each bundle pre-combines before the shuffle).
    """

    def create_accumulator(self):
        return []

    def add_input(self, acc, packed):
        acc.append(packed)
        if sum(map(len, acc)) >= MAX_PACKED_BYTES:
            acc[:] = [pack(compact([unpack(data) for data in acc]))]
        return acc

    def merge_accumulators(self, accs):
        merged = []
        for acc in accs:
            for packed in acc:
                self.add_input(merged, packed)
        return merged

    def extract_output(self, acc):
        return compact([unpack(data) for data in acc])


class ControlTotals(beam.PTransform):
    """Totals tables -> batches of totals.ndjson lines (sorted by key)."""

    def expand(self, partials):
        if isinstance(partials, tuple):
            partials = partials | "Flatten partials" >> beam.Flatten()
        return (
            partials
            # Without defaults: no input writes the same empty totals.ndjson, and the sum does
            # not pass through a side input (a stage of its own, ~0.1 s at 1M rows).
            | "Sum totals" >> beam.CombineGlobally(SumTotalsFn()).without_defaults()
            | "Format totals" >> beam.FlatMap(total_lines)
        )


def explode(batch):
    """Test/debug helper: one written batch (bytes or a str line) -> parsed dicts."""
    text = batch.decode("utf-8") if isinstance(batch, bytes) else batch
    return [json.loads(line) for line in text.splitlines() if line]


def explode_records(batch):
    """Test/debug helper: one written batch of records.tsv lines -> canonical record dicts."""
    text = batch.decode("utf-8") if isinstance(batch, bytes) else batch
    return [record_from_line(line) for line in text.split("\n") if line]
