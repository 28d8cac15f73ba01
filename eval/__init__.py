"""The evaluation suite: a thin consumer of the public ``rag`` API.

* ``eval.runner``: ``run_eval(...)`` asks every gold question (``eval/qa/*.jsonl``)
  through ``Assistant.ask`` / ``Assistant.chat()``, scores the answers, writes
  ``results.jsonl``, ``metrics.json``, ``report.md`` and ``report.html``;
  ``main(argv)`` is ``rag eval``; ``check_thresholds`` is the CI gate.
* ``eval.metrics``: the metric definitions (pure functions).
* ``eval.report``: the summary table and the Markdown / self-contained HTML reports.
* ``eval.baseline``: the stock llama-index ``CitationQueryEngine`` on the same
  models, for ``--baseline`` comparisons (``eval.runner.run_baseline`` asks
  through it); it imports nothing from the runner.

Nothing here implements pipeline logic.
"""
