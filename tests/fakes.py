"""Deterministic stand-ins for the models, for fast tests.

``FakeLLM`` answers with queued replies and records every prompt it was
sent; ``HashEmbedding`` maps text to a bag-of-words vector that can be
checked by hand (each word adds 1 to one of 256 buckets, then L2-normalise).
They implement the interfaces the pipeline uses (llama-index's ``LLM``,
``rag.embed.Embedder``), so they go where the real models go.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Sequence

import numpy as np
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.llms import (
    ChatMessage,
    ChatResponse,
    CompletionResponse,
    CustomLLM,
    LLMMetadata,
)


class FakeLLM(CustomLLM):
    """Replies from a queue; ``history`` holds the messages of every call."""

    _replies: list = PrivateAttr(default_factory=list)
    _history: list = PrivateAttr(default_factory=list)

    def enqueue(self, *replies) -> "FakeLLM":
        """Queue replies: strings, or exceptions to raise."""
        self._replies.extend(replies)
        return self

    @property
    def history(self) -> list[list[ChatMessage]]:
        return self._history

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(context_window=2048, num_output=96, is_chat_model=True, model_name="fake")

    def _next(self, messages):
        self._history.append(list(messages))
        if not self._replies:
            raise AssertionError("FakeLLM: no reply queued")
        reply = self._replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        return reply

    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        text = self._next(messages)
        return ChatResponse(message=ChatMessage(role="assistant", content=text))

    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any):
        text = self._next(messages)

        def gen():
            sofar = ""
            for piece in re.findall(r"\S+\s*|\s+", text):
                sofar += piece
                yield ChatResponse(message=ChatMessage(role="assistant", content=sofar), delta=piece)

        return gen()

    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=self._next([ChatMessage(role="user", content=prompt)]))

    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any):
        text = self.complete(prompt).text
        yield CompletionResponse(text=text, delta=text)


class HashEmbedding:
    """Bag-of-words hashing embedder: same words, same vector.

    Implements only the ``rag.embed.Embedder`` interface (``model_name``,
    ``dimension``, ``embed_batch``), like any embedder the pipeline accepts.
    """

    model_name = "hash-256"
    dimension = 256

    def __init__(self):
        self.calls: list[int] = []  # how many texts each embed_batch call received

    @staticmethod
    def vector(text: str) -> np.ndarray:
        v = np.zeros(256, dtype="float32")
        for word in re.findall(r"\w+", text.lower()):
            v[int(hashlib.md5(word.encode()).hexdigest(), 16) % 256] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        return np.stack([self.vector(t) for t in texts]) if texts else np.zeros((0, 256), "float32")
