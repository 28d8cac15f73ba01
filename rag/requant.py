"""Re-encode a GGUF model's Q4_1 weights as Q8_0, once, for faster prompts.

Why: the embedded SmolLM2 ships as Q4_1. llama.cpp's batched CPU matrix
kernels (llamafile's tinyBLAS, llama.cpp PR #6414) cover Q8_0 and Q4_0 but
not Q4_1, whose prompt tokens go through the one-row dot-product path.
Measured on this project's 2-core machine (``benchmarks/llm_bench.py
--model ...``, 248-token prompts): Q4_1 194 prompt tok/s, first token p50
1.28 s; the Q8_0 re-encoding 329 tok/s, 0.75 s.
Q8_0 stores each block of 32 values with an 8-bit code, so the Q4_1 values
(16 levels per block) survive with an error below 0.4% of the block's
largest value: the same model, not a different quantisation of it.

What it does: ``q8_0_copy(source, folder)`` returns ``folder/<name>.Q8_0.gguf``,
writing it first if it is missing or was made from another file (a JSON
sidecar records the source's path, size and mtime). Metadata (tokenizer,
chat template, architecture) is copied unchanged; Q4_1 tensors are
re-encoded; everything else (F32 norms, the Q8_0 embedding table) is copied
byte for byte. Writes go to a temporary file renamed into place, so a crash
or a second process never leaves a half-written model behind.

What it leaves out: other quantisation types (only Q4_1 was measured to
gain) and models larger than memory (the whole model is re-encoded in numpy,
~10 s for SmolLM2-135M); it is only used for the embedded model. It uses
the ``gguf`` package (llama.cpp's own Python GGUF library), imported only
when a copy has to be written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rag.atomic import replacing
from rag.errors import LLMUnavailableError

__all__ = ["q8_0_copy", "Q8_0_SUFFIX"]

Q8_0_SUFFIX = ".Q8_0.gguf"
# Bump when the conversion changes, so old copies are rewritten.
_FORMAT = 1
# Types re-encoded: those measured to lack llama.cpp's batched CPU kernels.
_SLOW_TYPES = ("Q4_1",)


def _source_stamp(source: Path) -> dict:
    stat = source.stat()
    return {
        "source": str(source.resolve()),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "format": _FORMAT,
    }


def _copy_name(source: Path) -> str:
    stem = source.name[: -len(".gguf")] if source.name.endswith(".gguf") else source.name
    for slow in _SLOW_TYPES:  # SmolLM2-135M-Instruct.Q4_1 -> SmolLM2-135M-Instruct
        if stem.upper().endswith("." + slow):
            stem = stem[: -len(slow) - 1]
    return stem + Q8_0_SUFFIX


def q8_0_copy(source: Path | str, folder: Path | str) -> Path:
    """The Q8_0 re-encoding of ``source`` in ``folder``, written if needed.

    Example: ``q8_0_copy(embedded_model_path(), ".rag-data/models").name``
    -> ``'SmolLM2-135M-Instruct.Q8_0.gguf'``

    Raises ``LLMUnavailableError`` naming the fix if the copy cannot be
    written (no ``gguf`` package, folder not writable, unreadable source).
    """
    source = Path(source)
    folder = Path(folder)
    target = folder / _copy_name(source)
    sidecar = target.with_suffix(".json")
    stamp = _source_stamp(source)
    try:
        if target.is_file() and json.loads(sidecar.read_text(encoding="utf-8")) == stamp:
            return target
    except (OSError, ValueError):
        pass  # missing or damaged sidecar: write the copy again
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # A one-off pause of ~10 s deserves a word on the terminal.
        print(f"Writing {target} (once; ~10 s for SmolLM2)...", file=sys.stderr, flush=True)
        _write_q8_0(source, target)
        with replacing(sidecar) as tmp:
            tmp.write_text(json.dumps(stamp, indent=1), encoding="utf-8")
    except ImportError as e:
        raise LLMUnavailableError(
            f"Re-encoding {source.name} as Q8_0 needs the gguf package ({e}). "
            "Fix: pip install 'gguf>=0.19,<1', or run the original file with "
            "RAG_LLM__EMBEDDED_Q8_0=false (slower prompts)."
        ) from e
    except OSError as e:
        raise LLMUnavailableError(
            f"Could not write the Q8_0 copy of {source.name} to {folder} ({e}). "
            "Fix: make that folder writable (it is RAG_INDEX__DATA_DIR/models), or "
            "run the original file with RAG_LLM__EMBEDDED_Q8_0=false."
        ) from e
    return target


def _write_q8_0(source: Path, target: Path) -> None:
    import gguf
    import numpy as np

    slow = {getattr(gguf.GGMLQuantizationType, name) for name in _SLOW_TYPES}
    q8_0 = gguf.GGMLQuantizationType.Q8_0
    reader = gguf.GGUFReader(source)
    with replacing(target) as tmp:
        arch = reader.fields["general.architecture"].contents()
        writer = gguf.GGUFWriter(str(tmp), arch=arch, endianess=reader.endianess)
        for name, field in reader.fields.items():
            # The writer adds the GGUF.* header fields and the architecture itself.
            if name.startswith("GGUF.") or name in ("general.architecture", "general.file_type"):
                continue
            value_type = field.types[0]
            sub_type = field.types[-1] if value_type == gguf.GGUFValueType.ARRAY else None
            writer.add_key_value(name, field.contents(), value_type, sub_type=sub_type)
        writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)
        for tensor in reader.tensors:
            if tensor.tensor_type in slow:
                values = gguf.quants.dequantize(tensor.data, tensor.tensor_type).astype(np.float32)
                writer.add_tensor(tensor.name, gguf.quants.quantize(values, q8_0), raw_dtype=q8_0)
            else:
                writer.add_tensor(tensor.name, tensor.data, raw_dtype=tensor.tensor_type)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
