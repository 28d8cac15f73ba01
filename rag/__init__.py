"""A local, trustworthy question-answering assistant over documents.

    >>> from rag import Assistant
    >>> answer = Assistant().ask("What did Suslov say about New START?")
    >>> answer.text, answer.citations[0].quote

Names are imported lazily so that ``import rag`` stays cheap (the CLI's cold
start matters on a laptop).
"""

from __future__ import annotations

import importlib

__all__ = [
    "Assistant", "ChatSession", "Settings", "Answer", "Citation", "Draft", "Evidence", "Document", "Passage",
    "Speaker", "Statement", "RagError", "QuestionError", "IngestError", "LLMError", "LLMUnavailableError",
    "ConfigError", "NoDocumentsError", "add_settings_options",
]

_WHERE = {
    "Assistant": "rag.assistant", "ChatSession": "rag.assistant", "Settings": "rag.settings",
    "Answer": "rag.types", "Citation": "rag.types", "Draft": "rag.types", "Evidence": "rag.types",
    "Document": "rag.types", "Passage": "rag.types", "Speaker": "rag.types", "Statement": "rag.types",
    "RagError": "rag.errors", "QuestionError": "rag.errors",
    "IngestError": "rag.errors", "LLMError": "rag.errors", "LLMUnavailableError": "rag.errors",
    "ConfigError": "rag.errors", "NoDocumentsError": "rag.errors", "add_settings_options": "rag.settings",
}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'rag' has no attribute {name!r}")
