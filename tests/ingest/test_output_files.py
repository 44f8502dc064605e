"""Output files are read as the standard library reads them, whatever parser is faster."""

import json

from webapp.services.ingestion.loader.output_files import iter_rows


def test_rows_read_as_stdlib_json_reads_them_including_what_orjson_refuses(tmp_path):
    lines = [
        '{"month":"2024-03","total_cost":"12.50","record_count":2}',
        '{"detail":"Zoë \\u00e9","position":7,"ratio":0.1}',
        '{"huge":123456789012345678901234567890,"odd":NaN}',
    ]
    (tmp_path / "rows.ndjson").write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    rows = list(iter_rows(str(tmp_path), "rows.ndjson"))
    expected = [json.loads(line) for line in lines]
    assert rows[:2] == expected[:2]
    assert rows[2]["huge"] == expected[2]["huge"]
    assert str(rows[2]["odd"]) == "nan"
    assert len(rows) == 3
