"""Tests of rag.requant: the Q8_0 re-encoding of a Q4_1 GGUF.

A small GGUF written with the ``gguf`` package stands in for the model; the
slow test in tests/test_llm.py runs the real re-encoded SmolLM2.
"""

from __future__ import annotations

import json
import os

import gguf
import numpy as np
import pytest

from rag.errors import LLMUnavailableError
from rag.requant import q8_0_copy

Q = gguf.GGMLQuantizationType


@pytest.fixture
def tiny_gguf(tmp_path):
    """A GGUF with metadata, a Q4_1 matrix, an F32 vector and a Q8_0 matrix."""
    rng = np.random.default_rng(7)
    weights = rng.normal(0, 0.05, size=(64, 96)).astype(np.float32)
    norm = rng.normal(1, 0.1, size=(96,)).astype(np.float32)
    table = rng.normal(0, 0.02, size=(16, 96)).astype(np.float32)
    path = tmp_path / "tiny-model.Q4_1.gguf"
    writer = gguf.GGUFWriter(str(path), arch="llama")
    writer.add_name("tiny")
    writer.add_context_length(256)
    writer.add_token_list(["<s>", "a", "b"])
    writer.add_chat_template("{{ messages }}")
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_1)
    writer.add_tensor("blk.0.ffn_up.weight", gguf.quants.quantize(weights, Q.Q4_1), raw_dtype=Q.Q4_1)
    writer.add_tensor("blk.0.attn_norm.weight", norm)
    writer.add_tensor("token_embd.weight", gguf.quants.quantize(table, Q.Q8_0), raw_dtype=Q.Q8_0)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def tensors(path):
    return {t.name: t for t in gguf.GGUFReader(path).tensors}


def test_q4_1_becomes_q8_0_with_the_same_values_and_metadata(tiny_gguf, tmp_path):
    out = q8_0_copy(tiny_gguf, tmp_path / "models")
    assert out == tmp_path / "models" / "tiny-model.Q8_0.gguf"
    before, after = tensors(tiny_gguf), tensors(out)
    assert list(before) == list(after)  # same tensors, same order

    up_before, up_after = before["blk.0.ffn_up.weight"], after["blk.0.ffn_up.weight"]
    assert up_after.tensor_type == Q.Q8_0
    assert list(up_after.shape) == list(up_before.shape)
    old = gguf.quants.dequantize(up_before.data, Q.Q4_1)
    new = gguf.quants.dequantize(up_after.data, Q.Q8_0)
    # Q8_0 keeps each value within about half a step (1/127 of its block's
    # maximum; a little more, as the step itself is stored as float16).
    block_max = np.abs(old.reshape(-1, 32)).max(axis=1, keepdims=True)
    error = np.abs(new - old).reshape(-1, 32)
    assert np.all(error <= 0.52 * block_max / 127)
    assert error.max() > 0  # it really was re-encoded

    for name in ("blk.0.attn_norm.weight", "token_embd.weight"):  # copied byte for byte
        assert after[name].tensor_type == before[name].tensor_type
        assert np.array_equal(np.asarray(after[name].data), np.asarray(before[name].data))

    reader_before, reader_after = gguf.GGUFReader(tiny_gguf), gguf.GGUFReader(out)
    for key in ("general.architecture", "general.name", "tokenizer.ggml.tokens",
                "tokenizer.chat_template", "llama.context_length"):
        assert reader_after.fields[key].contents() == reader_before.fields[key].contents()
    assert reader_after.fields["general.file_type"].contents() == gguf.LlamaFileType.MOSTLY_Q8_0
    assert oct(out.stat().st_mode & 0o777) == oct(0o644)


def test_the_copy_is_written_once_and_again_when_the_source_changes(tiny_gguf, tmp_path):
    folder = tmp_path / "models"
    out = q8_0_copy(tiny_gguf, folder)
    written = out.stat().st_mtime_ns
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["size"] == tiny_gguf.stat().st_size

    assert q8_0_copy(tiny_gguf, folder) == out
    assert out.stat().st_mtime_ns == written  # reused, not rewritten

    stat = tiny_gguf.stat()
    os.utime(tiny_gguf, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # "reinstalled"
    q8_0_copy(tiny_gguf, folder)
    assert out.stat().st_mtime_ns != written
    assert not list(folder.glob("*.tmp"))  # no leftovers from the atomic writes


def test_a_damaged_sidecar_or_copy_is_rewritten(tiny_gguf, tmp_path):
    folder = tmp_path / "models"
    out = q8_0_copy(tiny_gguf, folder)
    good = out.read_bytes()
    out.with_suffix(".json").write_text("{not json")
    assert q8_0_copy(tiny_gguf, folder).read_bytes() == good
    out.unlink()
    assert q8_0_copy(tiny_gguf, folder).read_bytes() == good


def test_an_unwritable_folder_is_a_clear_error(tiny_gguf, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the models folder should be")
    with pytest.raises(LLMUnavailableError) as info:
        q8_0_copy(tiny_gguf, blocker / "models")
    message = str(info.value)
    assert "not-a-folder" in message and "RAG_LLM__EMBEDDED_Q8_0=false" in message
