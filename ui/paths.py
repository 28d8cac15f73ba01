"""What the browser may see of the server's file system: names, never absolute paths.

A source id is the document's path relative to the project when it is inside
it (``seeds/a.txt``) and its absolute path otherwise: an upload when
``RAG_INDEX__DATA_DIR`` is elsewhere (``/srv/rag/uploads/notes.txt``), a
document folder outside the project (``/home/me/reports/hearing.pdf``). The
CLI and the Python API keep those ids (the person running them owns the
machine); the web page and its API show a *public name* instead:
  * a project-relative id as it is;
  * an upload as ``uploads/<file name>``;
  * any other absolute path as its shortest ending (file name, then
    ``folder/file name``, ...) that no other document's public name uses.
``PublicNames`` maps both ways, so a name the page shows (the Speakers filter,
the Remove choice, a citation's paragraph) finds its document again.
``without_server_paths`` cuts any absolute path left in a message to its last
part.

It does not hide what a document's own text says, or paths in the server's
log (that is the operator's).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import PurePosixPath
from typing import Any, Iterable, Optional

# An absolute path of at least two parts, not inside a URL or a fraction.
_SERVER_PATH = re.compile(r"(?<![\w:/.~-])/(?:[^\s/:'\"<>]+/)+([^\s/:'\"<>]*)")


def without_server_paths(text: str) -> str:
    """``text`` with every absolute file path cut to its last part (the file name).

    Messages shown in the browser must not tell a visitor where the server
    keeps its files (``/tmp/gradio/3f2…/x.txt`` becomes ``x.txt``).

    Example: ``without_server_paths("/tmp/gradio/ab12/x.txt: empty")`` -> ``"x.txt: empty"``
    """
    return _SERVER_PATH.sub(r"\1", text)


def _is_absolute(source: str) -> bool:
    return source.startswith("/") or bool(re.match(r"[A-Za-z]:[\\/]", source))


class PublicNames:
    """Source id <-> public name, for one set of documents.

    Example: ``PublicNames(["seeds/a.txt", "/srv/d/uploads/n.txt", "/home/me/x/r.md",
    "/home/me/y/r.md"], uploads="/srv/d/uploads")`` shows them as ``seeds/a.txt``,
    ``uploads/n.txt``, ``x/r.md`` and ``y/r.md``.
    """

    def __init__(self, sources: Iterable[str], uploads: Optional[str] = None):
        sources = list(dict.fromkeys(sources))
        uploads = (uploads or "").rstrip("/")
        taken = {s for s in sources if not _is_absolute(s)}
        self._public: dict[str, str] = {s: s for s in taken}
        absolute = [s for s in sources if _is_absolute(s)]
        for s in absolute:
            if uploads and s.startswith(uploads + "/") and "/" not in s[len(uploads) + 1:]:
                name = "uploads/" + s[len(uploads) + 1:]
                if name not in taken:
                    self._public[s] = name
                    taken.add(name)
        for s in absolute:
            if s in self._public:
                continue
            parts = PurePosixPath(s.replace("\\", "/")).parts[1:]
            others = [PurePosixPath(o.replace("\\", "/")).parts[1:] for o in absolute if o != s]
            name = None
            for k in range(1, len(parts) + 1):
                candidate = "/".join(parts[-k:])
                if candidate not in taken and all(tuple(o[-k:]) != parts[-k:] for o in others):
                    name = candidate
                    break
            # Two documents whose whole paths end alike cannot happen (ids are unique);
            # a clash with a project-relative id gets a numbered name.
            n = 2
            while name is None or name in taken:
                name = f"{parts[-1]} ({n})"
                n += 1
            self._public[s] = name
            taken.add(name)
        self._private = {v: k for k, v in self._public.items()}

    def public(self, source: str) -> str:
        """The name to show; an id not among the documents is cut to its file name if absolute."""
        if source in self._public:
            return self._public[source]
        return without_server_paths(source) if _is_absolute(source) else source

    def private(self, name: Optional[str]) -> Optional[str]:
        """The source id a shown name stands for (an unknown name comes back unchanged)."""
        if name is None:
            return None
        return self._private.get(name, name)

    def answer(self, answer: Any) -> Any:
        """``answer`` (a ``rag`` Answer) with public names in its citations and evidence,
        and no server path in its notice."""
        if answer is None:
            return None
        changes = {}
        if getattr(answer, "citations", None) is not None:
            changes["citations"] = tuple(dataclasses.replace(c, source=self.public(c.source))
                                         for c in answer.citations)
        if getattr(answer, "evidence", None) is not None:
            changes["evidence"] = tuple(dataclasses.replace(e, source=self.public(e.source))
                                        for e in answer.evidence)
        if getattr(answer, "notice", None):
            changes["notice"] = without_server_paths(answer.notice)
        return dataclasses.replace(answer, **changes)

    def speakers(self, speakers: Iterable[Any]) -> list:
        """Each ``Speaker`` with public names in its statements."""
        return [dataclasses.replace(sp, statements=tuple(dataclasses.replace(st, source=self.public(st.source))
                                                         for st in sp.statements))
                for sp in speakers]

    def documents(self, docs: Iterable[dict]) -> list[dict]:
        return [{**d, "source": self.public(str(d.get("source", "")))} for d in docs]
