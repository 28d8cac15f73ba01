"""Atomic file writes: write beside the target, then rename onto it.

Used for every file the assistant writes once and reads many times (the Q8_0
model copy, the ONNX export, a pulled model, their sidecars), so a crash or a
full disk leaves the previous file or none, never half of one. It does not
lock: two writers of the same file each rename a whole file, and the last wins.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target``, renamed onto it if the block succeeds
    (and deleted if it raises).

    Example: ``with replacing(Path("m.json")) as tmp: tmp.write_text("{}")``
    """
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; a model file is not secret
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
