"""A legacy file cut into blocks gives byte for byte what reading it whole gives."""

import io
import itertools
import threading

import pytest

from pipeline import legacy_blocks, parse
from pipeline.legacy_blocks import plan_blocks, read_block
from pipeline.run import local_worker_args, run_pipeline
from tests.support.pipeline_inputs import read_lines, write_file

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
    lines = (
        (
            [
                "id,patient_id,record_date,diagnosis,treatment,prescription,cost,notes,"
                "created_time,updated_time"
            ]
            if header
            else []
        )
        + ROWS[:200]
        + BAD
        + ROWS[200:]
    )
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
