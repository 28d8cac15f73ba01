"""The error hierarchy of the assistant.

Every error names the thing that went wrong and how to fix it, so the CLI and
the UI can show ``str(error)`` to a person as it is. Errors are converted into
exit codes or UI warnings only at those boundaries, never inside ``rag/``.
"""

from __future__ import annotations


class RagError(Exception):
    """Base class: anything the assistant reports to a user."""


class ConfigError(RagError):
    """A setting is wrong or a configured resource is missing."""


class IngestError(RagError):
    """A document could not be read; the message names the file and the fix."""

    def __init__(self, path: str, problem: str, fix: str):
        self.path = path
        self.problem = problem
        self.fix = fix
        super().__init__(f"{path}: {problem}. {fix}")


class NoDocumentsError(RagError):
    """There is nothing to index."""


class IndexCorruptError(RagError):
    """A persisted index or manifest is unreadable (it is rebuilt, never trusted)."""


class IndexWriteError(RagError):
    """The index could not be written (disk full, read-only data dir); the previous one is unchanged."""


class QuestionError(RagError):
    """The question itself is unusable (empty, too long)."""


class LLMError(RagError):
    """The language model could not be loaded or reached."""


class LLMUnavailableError(LLMError):
    """A configured LLM server or model file cannot be used right now."""


class ModelPullError(RagError):
    """A pullable model could not be downloaded or installed; nothing was installed."""


class ModelIntegrityError(ModelPullError):
    """Model bytes that are not the published file: refused, never installed or loaded."""


class IndexUnavailableError(RagError):
    """The configured index backend (a Milvus server or Lite file) cannot be used right now."""


class IndexMismatchError(RagError):
    """A stored index was built with other settings (embedding model, dimension, chunking)."""
