"""Labelled composite transforms: parse files, price NDJSON records, compute control totals."""

import json
from json.encoder import encode_basestring as esc

import apache_beam as beam
from apache_beam.metrics import Metrics

from pipeline.canonical import dumps, encode_lines
from pipeline.contract import cents, money, record_from_line, record_line
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
    total_shard,
)
from pipeline.stats import merge_totals


class PriceRecordsDoFn(beam.DoFn):
    """Join NDJSON Encounters/MedicationRequests with the Claims/EOBs that price them."""

    def __init__(self):
        super().__init__()
        self.unresolved = Metrics.counter("aikey_pipeline", "rejected_unresolved_reference")

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
            key = total_key(record)
            yield beam.pvalue.TaggedOutput(
                TOTALS, (total_shard(key), {key: [cents(record["cost"]), 1]})
            )
            yield encode_lines([record_line(record)])


class ParseFiles(beam.PTransform):
    """File specs -> {tag: tuple of PCollections}: records/patients/rejects as JSON-line batches,
    totals as ((source, patient, month), (cents, count)) partials, and per-file stats rows."""

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


class MergeTotalsFn(beam.CombineFn):
    """Add {(source, patient, month): [cents, count]} maps exactly (integer cents, no floats).

    Associative and commutative, so the runner lifts it: each bundle pre-combines before the
    shuffle, and the shuffle moves one map per shard instead of one element per record.
    """

    def create_accumulator(self):
        return {}

    def add_input(self, acc, partial):
        return merge_totals(acc, partial)

    def merge_accumulators(self, accs):
        accs = iter(accs)
        out = next(accs)
        for acc in accs:
            self.add_input(out, acc)
        return out

    def extract_output(self, acc):
        return acc


def format_totals(element):
    """Return totals.ndjson lines (UTF-8 bytes, sorted by key) for one merged shard.

    The patient part of a key is already compact JSON (contract.patient_key), so each line is
    formatted as dumps() would write it without parsing and re-encoding it.
    """
    _, merged = element
    lines = [
        f'{{"source_system":{esc(source)},"patient":{patient},"month":{esc(month)},'
        f'"total_cost":"{money(total)}","record_count":{count}}}'
        for (source, patient, month), (total, count) in sorted(merged.items())
    ]
    return encode_lines(lines)


class ControlTotals(beam.PTransform):
    """(shard, partial totals map) pairs -> batches of totals.ndjson lines."""

    def expand(self, partials):
        if isinstance(partials, tuple):
            partials = partials | "Flatten partials" >> beam.Flatten()
        return (
            partials
            | "Sum per key" >> beam.CombinePerKey(MergeTotalsFn())
            | "Format totals" >> beam.Map(format_totals)
        )


def explode(batch):
    """Test/debug helper: one written batch (bytes or a str line) -> parsed dicts."""
    text = batch.decode("utf-8") if isinstance(batch, bytes) else batch
    return [json.loads(line) for line in text.splitlines() if line]


def explode_records(batch):
    """Test/debug helper: one written batch of records.tsv lines -> canonical record dicts."""
    text = batch.decode("utf-8") if isinstance(batch, bytes) else batch
    return [record_from_line(line) for line in text.split("\n") if line]
