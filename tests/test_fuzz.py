"""Fuzzing the whole pipeline with generated documents and a misbehaving model.

Generated .txt/.md/.html documents (``tests/fuzzdocs.py``) go through
ingest -> parse -> attribute -> index (fake embedder) -> ask and follow-ups
(a fake LLM whose queued replies carry random, out-of-range and broken
``[n]`` markers and quotations the source never had). The invariants:
  * nothing raises but the documented errors for invalid input
    (``IngestError``/``NoDocumentsError`` for a document with no text,
    ``QuestionError`` for an unusable question), each one line;
  * every passage is an exact span: ``text[start:end] == passage.text``;
  * every citation's quote is its span of the source text (and of the file's
    own text for .txt/.md);
  * every marker in an answer names one of its citations;
  * a speaker is only ever a name or role the document's text contains.

CI runs a few hundred examples in all. ``make fuzz`` runs fifty times as
many (``FUZZ_LONG=1``; ``FUZZ_FACTOR=n`` for n times) with a printed seed;
``FUZZ_SEED=<seed> make fuzz`` replays a run.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import assume, given, strategies as st

from fakes import FakeLLM, HashEmbedding
from fuzzdocs import NAMES, document, follow_up, fuzz_settings, model_reply, question
from rag.answer import markers_of
from rag.errors import IngestError, NoDocumentsError, QuestionError
from rag.ingest import read_document
from rag.types import Answer

examples = fuzz_settings


def _flat(text: str) -> str:
    return " ".join(text.split()).lower()


def _assert_speaker_in_text(speaker: str | None, text: str) -> None:
    """A speaker is a name or role the document contains (whitespace and case
    aside: "MERESKY:" introduces Meresky, and a name may wrap across lines)."""
    if speaker is None:
        return
    assert speaker.strip() and speaker == speaker.strip(), speaker
    assert _flat(speaker) in _flat(text), f"speaker {speaker!r} does not occur in the document"


def _check_answer(answer: Answer, doc_text: str, file_text: str | None) -> None:
    assert answer.mode in ("generated", "extractive", "refused")
    markers = [c.marker for c in answer.citations]
    assert markers == list(range(1, len(markers) + 1)), markers
    for c in answer.citations:
        assert 0 <= c.start < c.end <= len(doc_text)
        assert doc_text[c.start : c.end] == c.quote
        if file_text is not None:
            assert file_text[c.start : c.end] == c.quote
        _assert_speaker_in_text(c.speaker, doc_text)
    if answer.mode == "refused":
        assert not answer.citations
    else:
        assert answer.citations, "a non-refused answer cites something"
    # Markers the answer's own words carry (not those inside quoted document text).
    quoted = "".join(c.quote for c in answer.citations)
    for n in markers_of(answer.text):
        assert 1 <= n <= len(markers) or f"[{n}" in quoted, (n, answer.text)


def _assistant(root: Path, llm):
    from rag.assistant import Assistant
    from rag.settings import Settings

    s = Settings().with_updates(index={"data_dir": root / "data", "show_progress": False})
    return Assistant(settings=s, paths=[root / "docs"], llm=llm, embed_model=HashEmbedding())


@examples(20)
@given(doc=document(), data=st.data())
def test_generated_documents_through_the_whole_pipeline(doc, data):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "docs").mkdir()
        path = root / "docs" / doc.name
        path.write_bytes(doc.data)
        llm = FakeLLM()
        assistant = _assistant(root, llm)
        try:
            read = read_document(path)
        except IngestError as exc:
            # The only documented refusal of a readable text file: no text in it.
            assert "\n" not in str(exc) and doc.name in str(exc) and "empty" in str(exc)
            with pytest.raises(NoDocumentsError):
                assistant.index
            return
        index = assistant.index
        (source,) = index.documents
        text = index.text_of(source)
        assert text == read.text
        file_text = None if doc.name.endswith(".html") else doc.data.decode("utf-8-sig")
        if file_text is not None:
            assert text == file_text
        for p in index.passages:
            assert text[p.start : p.end] == p.text and p.text.strip() == p.text and p.text
            _assert_speaker_in_text(p.speaker, text)
        for name, roles in index.people[source].items():
            _assert_speaker_in_text(name, text)
            for role in roles:
                assert _flat(role) in _flat(text), role

        chat = assistant.chat()
        sentences = [p.text for p in index.passages if p.kind == "sentence"][:50]
        for turn in range(data.draw(st.integers(1, 3), label="turns")):
            asked = data.draw(question() if turn == 0 else (question() | follow_up()), label="question")
            llm._replies[:] = [data.draw(model_reply(sentences), label="model reply")]
            try:
                answer = chat.ask(asked)
            except QuestionError as exc:
                assert not asked.strip() or len(asked.strip()) > 2000, exc
                assert "\n" not in str(exc)
                continue
            _check_answer(answer, text, file_text)


# -- the citation-marker parser and verification, without retrieval --------------------------


@examples(200)
@given(st.lists(st.sampled_from(list("[]0123456789,; -a\u00a0\u0663") + ["[1]", "[2, 3]", "[99]"]),
               max_size=40).map("".join))
def test_marker_parser_only_returns_numbers_written_inside_brackets(s):
    found = markers_of(s)
    for n in found:
        # n is written inside brackets, perhaps with leading zeros ("[07]" cites 7, "[00]" is 0)
        assert n >= 0 and re.search(rf"\[[^\]]*(?<![0-9])0*{n}(?![0-9])", s), (n, s)
    # Nothing is found where there are no brackets.
    if "[" not in s:
        assert found == []


HARBOUR = (
    "Harbour Plan\n\n"
    "The council met on Tuesday. \u201cWe cannot pay for the ferry,\u201d Maren Odell said.\n\n"
    "Tomas Vrba, the minister, said the budget was $3.5 million. \u201cThe bridge comes first,\u201d he said.\n\n"
    "\u00abNobody expected 42 percent,\u00bb said Ines Calderwood, an analyst at the Halvard Institute.\n"
)


@pytest.fixture(scope="module")
def answerer():
    """An Answerer over a small fixed corpus (made here) with fake models."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "docs").mkdir()
        (root / "docs" / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
        assistant = _assistant(root, FakeLLM())
        yield assistant.answerer


@examples(100)
@given(data=st.data())
def test_adversarial_model_output_never_yields_a_wrong_citation(answerer, data):
    index = answerer.retriever.index
    (source,) = index.documents
    text = index.text_of(source)
    asked = data.draw(question(), label="question")
    try:
        retrieval = answerer.retriever.retrieve(asked)
    except QuestionError:
        return
    assume(retrieval.evidence)
    shown = list(retrieval.evidence)
    reply = data.draw(model_reply([e.text for e in shown] + [p.text for p in index.passages]), label="reply")
    referent = data.draw(st.sampled_from([None, *NAMES]), label="referent")
    kept, citations = answerer.verify(reply, shown, referent)
    assert [c.marker for c in citations] == list(range(1, len(citations) + 1))
    for c in citations:
        assert text[c.start : c.end] == c.quote
        assert any(e.start <= c.start and c.end <= e.end for e in shown), "cited only what the model was shown"
    for n in markers_of(kept):
        assert 1 <= n <= len(citations), (n, kept)


# -- the follow-up resolver ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def extractive_chat():
    """A chat over the same kind of corpus with no LLM (extractive answers)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "docs").mkdir()
        (root / "docs" / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
        yield _assistant(root, None)


@examples(100)
@given(data=st.data())
def test_follow_up_resolver_never_fails_and_never_invents_a_person(extractive_chat, data):
    from rag.question import resolve_follow_up

    assistant = extractive_chat
    chat = assistant.chat()
    people = assistant.answerer.retriever.people
    text = assistant.index.text_of(next(iter(assistant.index.documents)))
    for _ in range(data.draw(st.integers(0, 3), label="earlier turns")):
        try:
            _check_answer(chat.ask(data.draw(question() | follow_up(), label="earlier question")), text, text)
        except QuestionError:
            pass
    asked = data.draw(follow_up() | question(), label="follow-up")
    resolved = resolve_follow_up(asked, chat.history, people)
    assert isinstance(resolved, str) and (resolved.strip() or not asked.strip())
    # A rewrite adds only words of the conversation or names of the corpus, never a new person.
    said = " ".join([asked, text] + [a.resolved_question or a.question for a in chat.history])
    allowed = {w.lower() for w in re.findall(r"\w+", said)}
    added = {w.lower() for w in re.findall(r"\w+", resolved)} - allowed
    assert added <= {"what", "about", "that", "s", "and"}, (added, resolved)


# -- defects the fuzzing found, each pinned by a plain test -------------------------------------


def test_a_marker_with_leading_zeros_is_its_number():
    """`make fuzz` (seed 4254028513) found "[00]": the parser reads 0, the oracle of the
    property test above wanted the digits "0" alone. A model may write "[01]"; it
    cites source 1, in the parser and in the page's links alike."""
    from ui.render import linkify_markers

    assert markers_of("[00]") == [0] and markers_of("Talks failed [01].") == [1]
    assert markers_of("[007, 2]") == [7, 2]
    assert 'href="#src-1"' in linkify_markers("Talks failed &#91;01&#93;.", [1])


def test_markers_are_ascii_digits_only():
    from ui.render import linkify_markers

    # "[\u0663]" is Arabic-Indic three: text, not citation 3.
    assert markers_of("as written [\u0663] and [3]") == [3]
    assert markers_of("[\u0663]") == []
    assert linkify_markers("&#91;\u0663&#93;", [3]) == "&#91;\u0663&#93;"


def test_a_document_without_one_indexable_word_is_indexed_and_answered(tmp_path):
    # A Markdown table of stopwords: bm25s cannot build an empty vocabulary.
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "t.md").write_text("| the |\n|---|", encoding="utf-8")
    assistant = _assistant(tmp_path, None)
    answer = assistant.ask("What did Maren Odell say?")
    assert answer.mode in ("refused", "extractive")
    for c in answer.citations:
        assert assistant.index.text_of(c.source)[c.start : c.end] == c.quote


class _FailingEmbedding(HashEmbedding):
    """An embedder that fails on one word, as a broken model or server would."""

    def embed_batch(self, texts):
        if any("poison" in t for t in texts):
            raise ValueError("the embedder failed")
        return super().embed_batch(texts)


def test_an_upload_that_fails_for_any_reason_leaves_nothing_behind(tmp_path):
    from rag.assistant import Assistant
    from rag.settings import Settings

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    s = Settings().with_updates(index={"data_dir": tmp_path / "data", "show_progress": False})
    assistant = Assistant(settings=s, paths=[tmp_path / "docs"], llm=None, embed_model=_FailingEmbedding())
    assistant.ask("What did Maren Odell say?")
    bad = tmp_path / "bad.txt"
    bad.write_text("The poison pill was never swallowed.", encoding="utf-8")
    with pytest.raises(ValueError):
        assistant.add_file(bad)
    assert not any(assistant.uploads_dir.iterdir())
    # A later build (a fresh start, or the next upload) does not trip over it.
    fresh = Assistant(settings=s, paths=[tmp_path / "docs"], llm=None, embed_model=_FailingEmbedding())
    assert fresh.ask("What did Maren Odell say?").citations
