"""Reading the eval suite's JSON Lines files (QA questions, verifier claims, injection cases).

``read_jsonl(path)`` yields ``(line number, object)`` for every non-blank
line, and raises ``DataFileError`` naming the file, the line and the fix when
the file is missing, is not UTF-8, or a line is not a JSON object. What a row
must contain is each caller's business (``eval.claimcheck`` checks its
required keys, ``eval.runner`` takes QA rows as they are); this module does
not know any schema.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator, Union

from rag import RagError  # the public API (docs/API_CONTRACT.md)


class DataFileError(RagError):
    """An eval data file that cannot be used (the message names the file, the line and the fix)."""


def read_jsonl(path: Union[str, Path], what: str = "JSONL file") -> Iterator[tuple[int, dict]]:
    """``(line number, object)`` for each non-blank line of ``path`` (numbers start at 1).

    ``what`` names the file's role in messages ("QA file", "claims file").

    Example: a file holding ``{"a": 1}``, a blank line and ``{"b": 2}`` yields
    ``(1, {"a": 1})`` then ``(3, {"b": 2})``; a line ``{"a": 1`` raises
    ``DataFileError("x.jsonl:1 is not JSON (Expecting ',' delimiter, column 7); fix or delete that line")``.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{what} {path} does not exist; pass an existing .jsonl file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    # JSON Lines ends a line at "\n" only: str.splitlines() would also split at
    # U+0085, U+2028 and U+2029, which JSON allows raw inside a string.
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataFileError(f"{path}:{n} is not JSON ({exc.msg}, column {exc.colno}); "
                                "fix or delete that line") from None
        if not isinstance(row, dict):
            raise DataFileError(f"{path}:{n} is a JSON {type(row).__name__}, not an object; "
                                "write one {...} object per line")
        yield n, row
