"""Answers through a real OpenAI-compatible LLM server, on both index backends,
with several users at once.

The server is llama.cpp's (xllamacpp.Server, the embedded SmolLM2 weights) on
a free loopback port, reached by the ``openai`` backend exactly as a vLLM or
Ollama server would be. Slow: it generates with the real model.
"""

import threading

import pytest
from fakes import HashEmbedding

from conftest import ARTICLE, release_milvus

QUESTIONS = [
    "What did Suslov say about New START?",
    "What did the Kremlin spokesman say about the calls?",
    "What did the U.S. ambassador to Russia say about sanctions?",
    "What is the capital of France?",
]
SPEAKERS = ["Dmitry Suslov", "Dmitry Peskov", "John Sullivan", None]


@pytest.fixture(scope="module")
def llm_server():
    xllamacpp = pytest.importorskip("xllamacpp")
    from rag.llm import embedded_model_path

    params = xllamacpp.CommonParams()
    params.model.path = str(embedded_model_path())
    params.n_ctx = 4096
    params.n_parallel = 2  # two slots: concurrent users are batched, the rest queue
    params.cpuparams.n_threads = 2
    params.cpuparams_batch.n_threads = 2
    params.verbosity = 1
    server = xllamacpp.Server(params)
    url = server.listening_address + "/v1"
    assert url.startswith("http://127.0.0.1:")
    yield url
    del server


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["faiss", "milvus"])
def test_answers_from_a_loopback_llm_server_with_concurrent_users(llm_server, backend, tmp_path):
    from rag.assistant import Assistant
    from rag.settings import Settings

    settings = Settings().with_updates(
        index={"data_dir": tmp_path / "data", "show_progress": False, "backend": backend},
        # A generous timeout: on two shared cores three users queue for the two slots.
        llm={"backend": "openai", "base_url": llm_server, "model": "smollm2", "max_tokens": 64, "timeout_s": 900},
    )
    assistant = Assistant(settings=settings, paths=[ARTICLE], embed_model=HashEmbedding())
    assistant.warm_up()  # index, and the server's reachability check
    text = ARTICLE.read_text(encoding="utf-8")
    answers: dict[tuple[int, str], object] = {}
    errors: list[BaseException] = []

    def user(n: int) -> None:
        try:
            for question in QUESTIONS[n % 2 :] + QUESTIONS[: n % 2]:
                answers[(n, question)] = assistant.ask(question)
        except BaseException as exc:  # reported below, with the thread's question
            errors.append(exc)

    users = 3
    threads = [threading.Thread(target=user, args=(n,)) for n in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=1200)
    try:
        assert not errors, errors
        assert len(answers) == users * len(QUESTIONS)
        for (_, question), answer in answers.items():
            # The server answered: no "unavailable" fallback (a notice that a
            # draft failed verification is the answer step doing its job).
            assert "unavailable" not in (answer.notice or ""), answer.notice
            for c in answer.citations:
                assert text[c.start : c.end] == c.quote
            if question == QUESTIONS[-1]:
                assert answer.refused
            else:
                assert not answer.refused and answer.citations
        # Every user's answer cites the person asked about. (Not the same
        # words for everyone: the server batches concurrent requests, and
        # batched decoding may pick another greedy token: seen here.)
        for question, speaker in zip(QUESTIONS, SPEAKERS):
            for n in range(users):
                if speaker:
                    assert speaker in {c.speaker for c in answers[(n, question)].citations}, (n, question)
        assert {answers[(0, QUESTIONS[0])].mode} <= {"generated", "extractive"}
        assert any(a.mode == "generated" for a in answers.values())
    finally:
        release_milvus()
