"""Labelled composite transforms: parse files, price NDJSON records, compute control totals."""

import json

import apache_beam as beam
from apache_beam.metrics import Metrics

from pipeline.canonical import dumps
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
    cents,
    total_key,
)


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
                yield beam.pvalue.TaggedOutput(REJECTS, [dumps(row)])
                delta = {"file": row["file"], "rejected": {"unresolved_reference": 1}}
                yield beam.pvalue.TaggedOutput(STATS, delta)
            return
        for record in records:
            apply_costs(record, facts)
            yield beam.pvalue.TaggedOutput(TOTALS, (total_key(record), (cents(record), 1)))
            yield [dumps(record)]


class ParseFiles(beam.PTransform):
    """File specs -> {tag: tuple of PCollections}: records/patients/rejects as JSON-line batches,
    totals as ((source, patient, month), (cents, count)) partials, and per-file stats rows."""

    def expand(self, specs):
        parsed = (
            specs
            | "Spread files" >> beam.Reshuffle()
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


class SumCentsFn(beam.CombineFn):
    """Sum (cents, count) pairs exactly; associative, so the runner lifts it before the shuffle."""

    def create_accumulator(self):
        return (0, 0)

    def add_input(self, acc, value):
        return (acc[0] + value[0], acc[1] + value[1])

    def merge_accumulators(self, accs):
        total = count = 0
        for cents_, n in accs:
            total += cents_
            count += n
        return (total, count)

    def extract_output(self, acc):
        return acc


def format_total(element):
    """Return one totals.ndjson line from ((source, patient JSON, month), (cents, count))."""
    (source, patient, month), (total, count) = element
    row = {
        "source_system": source,
        "patient": json.loads(patient),
        "month": month,
        "total_cost": f"{total // 100}.{total % 100:02d}",
        "record_count": count,
    }
    return dumps(row)


class ControlTotals(beam.PTransform):
    """Partial totals -> one JSON line per (source_system, patient, month)."""

    def expand(self, partials):
        if isinstance(partials, tuple):
            partials = partials | "Flatten partials" >> beam.Flatten()
        return (
            partials
            | "Sum per key" >> beam.CombinePerKey(SumCentsFn())
            | "Format totals" >> beam.Map(format_total)
        )


def explode(batches):
    """Test/debug helper: JSON-line batches -> parsed dicts."""
    return [json.loads(line) for line in ([batches] if isinstance(batches, str) else batches)]
