"""CI gate: the held-out test split on the embedded models meets eval/thresholds.json."""

import json

import pytest

from eval.runner import main


@pytest.mark.slow
def test_eval_meets_thresholds(tmp_path, capsys):
    code = main(["--split", "test", "--gate", "--out", str(tmp_path)])
    out = capsys.readouterr()
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    print(out.out[-3000:])
    assert code == 0, out.err
    assert metrics["citation_validity"] == 1.0
    assert set(metrics["splits"]) == {"test"}
    assert (tmp_path / "report.html").exists()
