"""A legacy file cut into blocks gives byte for byte what reading it whole gives."""

import io
import itertools
import threading

import pytest

from pipeline import legacy_blocks, parse
from pipeline.legacy import parse_legacy
from pipeline.legacy_blocks import plan_blocks, read_block
from pipeline.run import local_worker_args, run_pipeline
from pipeline.stats import new_stats
from tests.support.pipeline_inputs import read_lines, write_file

HEADER_LINE = (
    "id,patient_id,record_date,diagnosis,treatment,prescription,cost,notes,created_time,"
    "updated_time"
)
ROWS = [
    f"{n},{n % 7 + 1},2024-0{n % 9 + 1}-1{n % 9},Flu,Rest,P,{n}.5,note,x,y" for n in range(1, 400)
]
BAD = [
    "500,7,2024-02-30,Flu,Rest,P,1.00,n,x,y",  # bad_date
    "501,x7,2024-02-03,Flu,Rest,P,1.00,n,x,y",  # bad_id
    "502,7,2024-02-03,Flu,Rest,P,-1,n,x,y",  # negative_cost
    "503,7,2024-02-03,Flu,Rest",  # wrong_column_count
    "504,7,2024-02-03,Fl\\u,Rest,P,12.345,n,x,y",  # loads, rounded; backslash escaped
    "",
    "9,7,2024-03-03,Repeat,Rest,P,2.00,n,x,y",  # same id as row 9: both kept, in file order
]


def _file(tmp_path, header, trailing_newline):
    lines = ([HEADER_LINE] if header else []) + ROWS[:200] + BAD + ROWS[200:]
    text = "\n".join(lines) + ("\n" if trailing_newline else "")
    return write_file(tmp_path / "in" / "hosp", "export.csv", text)


def test_blocks_end_at_line_boundaries_and_count_lines():
    data = b"a\nbb\nccc\ndddd\ne"  # no trailing newline
    blocks = plan_blocks(io.BytesIO(data), 4)
    assert len(blocks) > 2 and blocks[0][0] == 0 and blocks[-1][1] is None
    for (start, end, first_line), following in itertools.pairwise(blocks):
        assert data[end - 1 : end] == b"\n" and following[0] == end
        assert first_line == data[:start].count(b"\n") + 1
    assert blocks[-1][2] == data.count(b"\n") + 1 - (data.endswith(b"\n"))
    assert b"".join(read_block(io.BytesIO(data), a, b) for a, b, _ in blocks) == data


def test_a_file_with_quotes_is_one_block():
    assert plan_blocks(io.BytesIO(b'1,"a\nb"\n2,c\n' * 10), 4) == [(0, None, 1)]


@pytest.mark.parametrize(("header", "trailing_newline"), [(True, True), (False, False)])
def test_split_file_gives_the_same_output_as_whole(tmp_path, monkeypatch, header, trailing_newline):
    path = _file(tmp_path, header, trailing_newline)
    whole = run_pipeline([str(path)], str(tmp_path / "whole"), run_id="whole")
    monkeypatch.setattr(legacy_blocks, "BLOCK_BYTES", 1024)
    split = run_pipeline([str(path)], str(tmp_path / "split"), run_id="split")
    for name in ("records.tsv", "rejects.ndjson", "totals.ndjson"):
        key = str if name != "records.tsv" else (lambda r: r["provenance"]["position"])
        got = sorted(read_lines(tmp_path / "split" / name), key=key)
        assert got == sorted(read_lines(tmp_path / "whole" / name), key=key), name
    assert split["counts"] == whole["counts"]
    assert whole["counts"]["rejected_by_reason"] == {
        "bad_date": 1, "bad_id": 1, "negative_cost": 1, "wrong_column_count": 1,
    }  # fmt: skip
    assert whole["counts"]["records"] == len(ROWS) + 2
    records = read_lines(tmp_path / "whole" / "records.tsv")
    odd = next(r for r in records if r["source_record_id"] == "export.csv#504")
    assert (odd["diagnosis"], odd["cost"]) == ("Fl\\u", "12.35")
    nines = [r["diagnosis"] for r in records if r["source_record_id"] == "export.csv#9"]
    assert nines == ["Flu", "Repeat"]


def test_two_worker_processes_give_the_same_output(tmp_path):
    path = _file(tmp_path, header=True, trailing_newline=True)
    alone = run_pipeline([str(path)], str(tmp_path / "one"), run_id="one")
    shared = run_pipeline(
        [str(path)], str(tmp_path / "two"), run_id="two", extra_args=local_worker_args(2)
    )
    assert shared["counts"] == alone["counts"]
    for name in ("records.tsv", "totals.ndjson"):
        assert sorted(map(str, read_lines(tmp_path / "two" / name))) == sorted(
            map(str, read_lines(tmp_path / "one" / name))
        )


def test_blocks_are_parsed_on_the_pool_threads_and_counted_once(tmp_path, monkeypatch):
    path = _file(tmp_path, header=True, trailing_newline=True)
    whole = run_pipeline([str(path)], str(tmp_path / "whole"), run_id="whole")
    threads, original = [], parse.parsed_block

    def spy(spec):
        threads.append(threading.current_thread().name)
        return original(spec)

    monkeypatch.setattr(parse, "parsed_block", spy)
    monkeypatch.setattr(legacy_blocks, "BLOCK_BYTES", 1024)
    split = run_pipeline([str(path)], str(tmp_path / "split"), run_id="split")
    assert len(threads) > parse.BLOCK_THREADS
    assert all(name.startswith("parse-block") for name in threads)
    assert split["counts"] == whole["counts"] and split["counts"]["files"] == 1


def test_a_block_that_cannot_be_read_yields_nothing_and_its_error():
    spec = {"uri": "/nonexistent/export.csv", "source_system": "s", "generation": "g",
            "relpath": "export.csv", "block": [0, None, 1]}  # fmt: skip
    stats, outcomes, error = parse.parsed_block(spec)
    assert outcomes == [] and isinstance(error, OSError) and stats["rows_read"] == 0


GOOD = "7,3,2024-05-06,Flu,Rest,P,12.50,note,x,y"
HOSTILE_BLOCKS = {
    "plain": "\n".join([GOOD] * 5) + "\n",
    "header and no trailing newline": HEADER_LINE + "\n" + GOOD + "\n" + GOOD,
    "empty lines": "\n\n" + GOOD + "\n\n\n" + GOOD + "\n\n",
    "whitespace-only lines": " \n" + GOOD + "\n\t\n" + GOOD + "\n",
    "narrow and wide rows": "1,2\n" + GOOD + "\n" + GOOD + ",extra\n,,,,,,,,,\n" + GOOD + "\n",
    "control characters": GOOD
    + "\n"
    + GOOD.replace("Flu", "F\x00u")
    + "\n"
    + GOOD.replace("note", "a\x1fb")
    + "\n"
    + GOOD.replace("Rest", "R\tt")
    + "\n"
    + GOOD,
    "padded ids and fields": " 7,3,2024-05-06,Flu,Rest,P,12.50,n,x,y\n7, 3 ,2024-05-06 ,Flu,Rest,P"
    ", 12.5 ,n,x,y\n\u00a07,3,2024-05-06,Flu,Rest,P,1,n,x,y\n",
    "bad values": "\n".join(
        [
            "8,3,2024-02-30,Flu,Rest,P,1.00,n,x,y",
            "8,x3,2024-02-03,Flu,Rest,P,1.00,n,x,y",
            "8,3,2024-02-03,Flu,Rest,P,-1,n,x,y",
            "8,3,2024-02-03,Flu,Rest,P,1000000.01,n,x,y",
            "8,3,2024-02-03,Flu,Rest,P,1e3,n,x,y",
            "8,3,2024-2-3,Flu,Rest,P,1,n,x,y",
            ",3,2024-02-03,Flu,Rest,P,1,n,x,y",
            "8,,2024-02-03,Flu,Rest,P,1,n,x,y",
            "8,3,,Flu,Rest,P,1,n,x,y",
            "8,3,2024-02-03,Flu,Rest,P,,n,x,y",
            "8,1234567890123456789,2024-02-03,Flu,Rest,P,1,n,x,y",
            "8,\u0663,2024-02-03,F,R,P,1,n,x,y",
            "8,3,2024-02-03,Flu,Rest,P,0.125,n,x,y",
            "8,3,2024-02-03,Flu,Rest,P,1000000.00,n,x,y",
        ]
    )
    + "\n",
    "unicode and escapes": (
        "9,3,2024-05-06,Grippe \u00e9t\u00e9,R\u00e9\\st,\u6f22,3.1,\U0001f600,x,y\n"
    ),
    "a field past the csv limit": GOOD + "\n" + GOOD.replace("note", "n" * 140_000) + "\n",
    "a narrow row past the csv limit": GOOD + "\n1," + "n" * 140_000 + "\n" + GOOD + "\n",
    "a narrow row with a control character": "1,\x00\n" + GOOD + "\n" + "1,\x07,3\n",
    "byte order mark and CRLF": "\ufeff" + HEADER_LINE + "\r\n" + GOOD + "\r\n" + GOOD + "\r\n",
    "header only": HEADER_LINE + "\n",
    "nothing": "",
}


def _outcomes(outcomes):
    """A parser's outcomes as (records.tsv lines, rejects, totals {key: [cents, count]})."""
    lines, rejects, totals = [], [], {}
    for kind, value in outcomes:
        if kind == "batch":
            lines += value[0].decode("utf-8").splitlines()
        elif kind == "reject":
            rejects.append(value)
        else:
            rows = value.to_pylist() if kind == "totals_table" else [
                {"source": k[0], "patient": k[1], "month": k[2], "cents": v[0], "count": v[1]}
                for k, v in value.items()
            ]  # fmt: skip
            for row in rows:
                key = (row["source"], row["patient"], row["month"])
                acc = totals.setdefault(key, [0, 0])
                acc[0], acc[1] = acc[0] + row["cents"], acc[1] + row["count"]
    return sorted(lines), sorted(rejects, key=lambda r: r["position"]), totals


# A byte order mark can only open a file, so that block is only tried as a file's first.
@pytest.mark.parametrize(
    ("name", "first_line"),
    [(name, 1) for name in HOSTILE_BLOCKS]
    + [(name, 41) for name in HOSTILE_BLOCKS if not name.startswith("byte order mark")],
)
def test_the_column_path_matches_the_csv_reader_row_for_row(name, first_line):
    data = HOSTILE_BLOCKS[name].encode("utf-8")
    spec = {"uri": "/in/hosp/export.csv", "source_system": "hosp", "generation": "g",
            "relpath": "export.csv"}  # fmt: skip
    by_columns, by_rows = new_stats(spec, "legacy_csv"), new_stats(spec, "legacy_csv")
    got = _outcomes(legacy_blocks.parse_block(spec, data, first_line, by_columns))
    want = _outcomes(parse_legacy(spec, io.BytesIO(data), by_rows, first_line))
    assert got == want
    assert (by_columns["rows_read"], by_columns["records"]) == (
        by_rows["rows_read"], by_rows["records"],
    )  # fmt: skip
