"""The file-parsing DoFn: one file in, batches of canonical JSON lines out on tagged outputs."""

import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import apache_beam as beam
import pyarrow as pa
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.timestamp import MIN_TIMESTAMP
from apache_beam.utils.windowed_value import WindowedValue

from pipeline import legacy_blocks
from pipeline.canonical import dumps, encode_lines, reject
from pipeline.contract import cents, patient_key, record_line
from pipeline.fhir import parse_bundle, parse_ndjson
from pipeline.legacy import parse_legacy
from pipeline.legacy_blocks import parse_block, plan_blocks, read_block
from pipeline.readers import detect_format, open_binary, sniff
from pipeline.stats import bump, merge_totals, new_stats
from pipeline.synthea_csv import parse_synthea
from pipeline.totals_tables import compact, from_map, pack

RECORDS, PATIENTS, REJECTS, TOTALS, STATS, PENDING, FACTS = (
    "records",
    "patients",
    "rejects",
    "totals",
    "stats",
    "pending",
    "facts",
)
# Records leave the DoFn in lists of this many lines: per-element overhead in the runner
# then costs per batch instead of per record.
BATCH = 2000
# Partial control totals held as a dict become a table when this many keys are held.
MAX_PARTIAL_KEYS = 100_000
# Totals tables are summed once they hold this many rows (keys repeat across blocks and files),
# so a bundle holds about one row per key, and leaves as one table. A block of 8 MiB gives
# ~70,000 rows at 20,000 patients: 2,000,000 let 4M records hold ~150 MB of tables where 1M
# held ~65 MB; at this bound both stay under ~75 MB, for one ~0.3 s sum per ~14 blocks.
MAX_TABLE_ROWS = 1_000_000
# Legacy blocks are parsed on this many threads (Arrow's kernels release the GIL), so one
# process uses every core; at most this many parsed blocks wait to be emitted.
BLOCK_THREADS = min(2, os.cpu_count() or 1)


def parser_for(fmt):
    """Return the parser generator function for a detected format, or None."""
    if fmt == "legacy_csv":
        return parse_legacy_part
    if fmt == "fhir_bundle":
        return parse_bundle
    if fmt == "fhir_ndjson":
        return parse_ndjson
    if fmt.startswith("synthea_"):
        kind = fmt[len("synthea_") :]
        return lambda spec, stream, stats: parse_synthea(spec, stream, stats, kind)
    return None


def parse_legacy_part(spec, stream, stats):
    """A legacy file or one block of it (spec["block"]); a big unsplit file is streamed."""
    block = spec.get("block")
    if block is None and (spec.get("size") or 0) > legacy_blocks.BLOCK_BYTES:
        return parse_legacy(spec, stream, stats)  # not split: it holds quotes, read row by row
    start, end, first_line = block or (0, None, 1)
    return parse_block(spec, read_block(stream, start, end), first_line, stats)


def split_file(spec):
    """One spec per block of a big legacy CSV file (so workers share it); else the spec as is."""
    if (spec.get("size") or 0) <= legacy_blocks.BLOCK_BYTES:
        return [spec]
    try:
        if detect_format(spec["uri"], sniff(spec["uri"])) != "legacy_csv":
            return [spec]
        with open_binary(spec["uri"]) as stream:
            blocks = plan_blocks(stream)
    except OSError:
        return [spec]  # the parse step reports the read error
    if len(blocks) == 1:
        return [spec]
    return [dict(spec, block=list(block)) for block in blocks]


def parsed_block(spec):
    """Read and parse one legacy block whole (on a pool thread): (stats, outcomes, OSError)."""
    stats = new_stats(spec, "legacy_csv")
    try:
        with open_binary(spec["uri"]) as stream:
            # A block is read whole before its first outcome, so an error leaves none behind.
            return stats, list(parse_legacy_part(spec, stream, stats)), None
    except OSError as err:
        return stats, [], err
    finally:
        # Arrow's allocator keeps a thread's freed pages for that thread: without this each
        # pool thread holds its own high-water mark (4M records: 862 MiB peak, 755 with it).
        pa.default_memory_pool().release_unused()


def _windowed(output):
    """An output of finish_bundle, which must carry its window itself."""
    if isinstance(output, beam.pvalue.TaggedOutput):
        return beam.pvalue.TaggedOutput(output.tag, _windowed(output.value))
    return WindowedValue(output, MIN_TIMESTAMP, [GlobalWindow()])


def total_key(record):
    """Return the control-total key (source_system, patient JSON, month) of a record."""
    return (record["source_system"], patient_key(record), record["month"])


class ParseFileDoFn(beam.DoFn):
    """Parse one file spec; emit record/patient/reject batches, partial totals and file stats."""

    def __init__(self):
        super().__init__()
        self.counters = {}
        self.partial = {}
        self.pool = None

    def setup(self):
        self.pool = ThreadPoolExecutor(BLOCK_THREADS, thread_name_prefix="parse-block")

    def teardown(self):
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)

    def start_bundle(self):
        # One map for every file of the bundle: per-file maps would each be held by the runner
        # until the bundle ends, so memory would grow with the number of files.
        self.partial = {}
        self.tables, self.table_rows = [], 0
        self.blocks = deque()

    def finish_bundle(self):
        while self.blocks:
            for output in self._next_block():
                yield _windowed(output)
        self._flush_totals(self.partial)
        if self.tables:
            packed = pack(compact(self.tables))
            yield beam.pvalue.TaggedOutput(
                TOTALS, WindowedValue(packed, MIN_TIMESTAMP, [GlobalWindow()])
            )
        self.tables, self.table_rows = [], 0

    def _count(self, name, n=1):
        if name not in self.counters:
            self.counters[name] = Metrics.counter("aikey_pipeline", name)
        self.counters[name].inc(n)

    def process(self, spec):
        if spec.get("block"):
            # Parsed ahead on the pool; emitted here, in order, as metrics need this thread.
            self.blocks.append((spec, self.pool.submit(parsed_block, spec)))
            while len(self.blocks) > BLOCK_THREADS:
                yield from self._next_block()
            return
        head = b""
        try:
            head = b"" if spec.get("block") else sniff(spec["uri"])
            fmt = "legacy_csv" if spec.get("block") else detect_format(spec["uri"], head)
        except OSError as err:
            fmt = "unreadable"
            error = ("read_error", err)
        else:
            error = ("unknown_format", "format not recognised")
        stats = new_stats(spec, fmt)
        parser = parser_for(fmt)
        if parser is None:
            stats["rejected"][error[0]] = 1
            self._count(f"rejected_{error[0]}")
            yield beam.pvalue.TaggedOutput(
                REJECTS, encode_lines([dumps(reject(spec, 0, head[:200], *error))])
            )
            yield beam.pvalue.TaggedOutput(STATS, stats)
            return
        error = None
        try:
            with open_binary(spec["uri"]) as stream:
                yield from self._emit(parser(spec, stream, stats), stats)
        except OSError as err:
            error = err
        yield from self._finish_file(spec, stats, error)

    def _next_block(self):
        spec, parsed = self.blocks.popleft()
        stats, outcomes, error = parsed.result()
        yield from self._emit(iter(outcomes), stats)
        yield from self._finish_file(spec, stats, error)

    def _finish_file(self, spec, stats, error):
        if error is not None:
            bump(stats["rejected"], "read_error")
            self._count("rejected_read_error")
            row = reject(spec, stats["rows_read"], "", "read_error", error)
            yield beam.pvalue.TaggedOutput(REJECTS, encode_lines([dumps(row)]))
        if not spec.get("block") or spec["block"][0] == 0:
            self._count("files")
        self._count("rows_read", stats["rows_read"])
        yield beam.pvalue.TaggedOutput(STATS, stats)

    def _emit(self, outcomes, stats):
        batches = {RECORDS: [], PATIENTS: [], REJECTS: []}
        partial = self.partial
        for kind, row in outcomes:
            if kind == "record" or kind == "line":
                if kind == "line":
                    line, key, amount = row
                else:
                    line, key, amount = record_line(row), total_key(row), cents(row["cost"])
                # Inlined rather than merge_totals: this runs once per record.
                acc = partial.get(key)
                if acc is None:
                    partial[key] = [amount, 1]
                else:
                    acc[0] += amount
                    acc[1] += 1
                out = batches[RECORDS]
                out.append(line)
                if len(out) >= BATCH:
                    yield from self._flush(RECORDS, batches, stats)
                if len(partial) >= MAX_PARTIAL_KEYS:
                    self._flush_totals(partial)
            elif kind == "batch":
                self._count("records", row[1])
                yield row[0]
            elif kind == "totals_table":
                self._add_table(row)
            elif kind == "totals":
                merge_totals(partial, row)
                if len(partial) >= MAX_PARTIAL_KEYS:
                    self._flush_totals(partial)
            elif kind == "skip":
                bump(stats["skipped"], row)
            elif kind in ("pending", "fact"):
                if kind == "pending":
                    stats["records"] += 1
                yield beam.pvalue.TaggedOutput(PENDING if kind == "pending" else FACTS, row)
            else:
                tag = PATIENTS if kind == "patient" else REJECTS
                if kind == "reject":
                    bump(stats["rejected"], row["reason"])
                    self._count(f"rejected_{row['reason']}")
                batches[tag].append(dumps(row))
                if len(batches[tag]) >= BATCH:
                    yield from self._flush(tag, batches, stats)
        for tag in batches:
            yield from self._flush(tag, batches, stats)
        for kind, n in stats["skipped"].items():
            self._count(f"skipped_{kind}", n)

    def _add_table(self, table):
        self.tables.append(table)
        self.table_rows += len(table)
        if self.table_rows >= MAX_TABLE_ROWS:
            self.tables = [compact(self.tables)]
            self.table_rows = len(self.tables[0])

    def _flush(self, tag, batches, stats):
        lines = batches[tag]
        if not lines:
            return
        if tag == RECORDS:
            stats["records"] += len(lines)
            self._count("records", len(lines))
        elif tag == PATIENTS:
            stats["patients"] += len(lines)
            self._count("patients", len(lines))
        batches[tag] = []
        data = encode_lines(lines)
        yield data if tag == RECORDS else beam.pvalue.TaggedOutput(tag, data)

    def _flush_totals(self, partial):
        if partial:
            self._add_table(from_map(partial))
            partial.clear()
