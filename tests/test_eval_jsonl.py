"""eval.jsonl.read_jsonl: the one reader of the eval suite's JSON Lines files.

The QA files (``eval.runner.load_qa``), the claims (``eval.claimcheck.load_claims``)
and the injection cases (``eval.injection.load_cases``) all go through it, so a
broken line gets the same message (file, line, fix) whichever file it is in.
"""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eval.jsonl import DataFileError, read_jsonl

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20))
json_objects = st.dictionaries(st.text(string.ascii_letters, min_size=1, max_size=8),
                               st.one_of(json_scalars, st.lists(json_scalars, max_size=3)), max_size=4)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.one_of(json_objects, st.sampled_from(["", "   ", "\t"])), max_size=12))
def test_every_object_comes_back_with_its_line_number(tmp_path, rows):
    path = tmp_path / "rows.jsonl"
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected = [(n, r) for n, r in enumerate(rows, start=1) if isinstance(r, dict)]
    assert list(read_jsonl(path)) == expected


def test_a_line_that_is_not_json_names_the_file_the_line_and_the_fix(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_text('{"question": "a"}\n\n{"question": "b"\n', encoding="utf-8")
    with pytest.raises(DataFileError, match=r"qa\.jsonl:3 is not JSON \(.*column \d+\); fix or delete that line"):
        list(read_jsonl(path))


def test_a_line_that_is_json_but_not_an_object_is_refused(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_text('["a list"]\n', encoding="utf-8")
    with pytest.raises(DataFileError, match=r"qa\.jsonl:1 is a JSON list, not an object; write one \{\.\.\.\} object"):
        list(read_jsonl(path))


def test_a_missing_file_and_a_file_that_is_not_utf8(tmp_path):
    with pytest.raises(DataFileError, match=r"QA file .*nothere\.jsonl does not exist; pass an existing \.jsonl file"):
        list(read_jsonl(tmp_path / "nothere.jsonl", "QA file"))
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes('{"q": "café"}\n'.encode("latin-1"))
    with pytest.raises(DataFileError, match=r"latin\.jsonl is not UTF-8 text \(byte \d+\); save it as UTF-8"):
        list(read_jsonl(latin))


def test_qa_claims_and_injection_cases_share_the_message(tmp_path):
    from eval.claimcheck import load_claims
    from eval.injection import load_cases
    from eval.runner import load_qa

    bad = tmp_path / "dev.jsonl"
    bad.write_text('\n{oops\n', encoding="utf-8")  # line 1 blank: no loader reads a row first
    for load in (load_qa, load_claims, lambda paths: load_cases(paths[0])):
        with pytest.raises(DataFileError, match=r"dev\.jsonl:2 is not JSON .*; fix or delete that line"):
            load([bad])


def test_rag_eval_reports_a_broken_qa_line_as_one_line_and_exit_2(tmp_path, capsys):
    from eval.runner import main

    bad = tmp_path / "mine.jsonl"
    bad.write_text('{"question": "What did Suslov say?"}\n{"question": \n', encoding="utf-8")
    assert main(["--qa", str(bad), "--backend", "none", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "mine.jsonl:2 is not JSON" in err and "\n" not in err


def test_a_line_separator_inside_a_string_does_not_split_the_line(tmp_path):
    """Found by the property test above: str.splitlines() also breaks at U+0085,
    U+2028 and U+2029, which JSON allows unescaped inside a string, so the old
    readers of the QA and claims files refused such a line as "not JSON"."""
    path = tmp_path / "claims.jsonl"
    rows = [{"sentence": "one\u2028two"}, {"sentence": "three\x85four\u2029"}]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\r\n" for r in rows), encoding="utf-8")
    assert list(read_jsonl(path)) == [(1, rows[0]), (2, rows[1])]
