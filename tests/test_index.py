"""The persisted index: reopen without re-embedding, incremental updates, damage is rebuilt."""

import json
import os
import shutil

import pytest

from rag.errors import IndexWriteError
from fakes import HashEmbedding

from rag.index import index_dir, open_index
from rag.settings import Settings


@pytest.fixture
def corpus(tmp_path, article_text):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "article.txt").write_text(article_text, encoding="utf-8")
    (docs / "note.md").write_text("# Note\n\nThe summit was held in Geneva on June 16, 2021.\n", encoding="utf-8")
    settings = Settings().with_updates(index={"data_dir": tmp_path / "data", "show_progress": False}, docs=[docs])
    return docs, settings


def test_build_then_reopen_without_embedding(corpus):
    docs, settings = corpus
    emb = HashEmbedding()
    first = open_index(settings, embed_model=emb)
    assert sum(emb.calls) == len(first.passages) > 50
    manifest = json.loads((first.directory / "manifest.json").read_text())
    assert manifest["format_version"] == 1 and manifest["embedding_model"] == "hash-256"
    assert set(manifest["files"]) == {d.source for d in first.documents.values()}
    assert manifest["chunking"]["unit"] == "sentence"
    again = open_index(settings, embed_model=emb)
    assert sum(emb.calls) == len(first.passages)  # nothing re-embedded
    assert [p.id for p in again.passages] == [p.id for p in first.passages]
    assert again.people == first.people


def test_changed_added_and_removed_files_update_incrementally(corpus):
    docs, settings = corpus
    emb = HashEmbedding()
    embedded = []  # texts embedded by each open_index

    def reopen():
        before = sum(emb.calls)
        index = open_index(settings, embed_model=emb)
        embedded.append(sum(emb.calls) - before)
        return index

    first = reopen()
    (docs / "note.md").write_text("# Note\n\nThe summit was held in Geneva on June 16, 2021. It was short.\n")
    second = reopen()
    assert embedded[-1] == 1  # only the new sentence
    (docs / "extra.txt").write_text("Another document. With two sentences.")
    third = reopen()
    assert embedded[-1] == 2 and len(third.documents) == 3
    (docs / "extra.txt").unlink()
    fourth = reopen()
    assert len(fourth.documents) == 2 and embedded[-1] == 0  # removal embeds nothing
    assert len(fourth.passages) == len(second.passages) == len(first.passages) + 1


@pytest.mark.parametrize("damage", ["manifest", "vectors", "passages", "truncate"])
def test_corrupted_index_is_detected_and_rebuilt(corpus, damage, caplog):
    docs, settings = corpus
    emb = HashEmbedding()
    first = open_index(settings, embed_model=emb)
    d = first.directory
    if damage == "manifest":
        (d / "manifest.json").write_text("{not json")
    elif damage == "vectors":
        (d / "vectors.npy").write_bytes(b"garbage")
    elif damage == "passages":
        lines = (d / "passages.jsonl").read_text().splitlines()
        (d / "passages.jsonl").write_text("\n".join(lines[:-3]))
    else:
        data = (d / "texts.json").read_bytes()
        (d / "texts.json").write_bytes(data[: len(data) // 2])
    rebuilt = open_index(settings, embed_model=emb)
    assert len(rebuilt.passages) == len(first.passages)
    assert "unreadable" in caplog.text
    assert open_index(settings, embed_model=emb).passages == rebuilt.passages


def test_crash_mid_write_leaves_the_previous_index_usable(corpus, monkeypatch):
    docs, settings = corpus
    emb = HashEmbedding()
    first = open_index(settings, embed_model=emb)
    (docs / "note.md").write_text("# Note\n\nSomething else entirely happened.\n")
    real_replace = os.replace

    def crash(src, dst):
        if str(src).endswith(".tmp-" + str(os.getpid())):
            raise OSError("simulated crash")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(IndexWriteError, match="simulated crash.*previous index, if any, is unchanged"):
        open_index(settings, embed_model=emb)
    monkeypatch.setattr(os, "replace", real_replace)
    # The old folder (moved aside to .old) is found and read; the change is then indexed.
    (docs / "note.md").write_text("# Note\n\nThe summit was held in Geneva on June 16, 2021.\n")
    again = open_index(settings, embed_model=emb)
    assert [p.id for p in again.passages] == [p.id for p in first.passages]


def test_half_written_folder_without_manifest_is_ignored(corpus):
    docs, settings = corpus
    emb = HashEmbedding()
    first = open_index(settings, embed_model=emb)
    d = first.directory
    (d / "manifest.json").unlink()
    shutil.copytree(d, d.with_name(d.name + ".tmp-999"))
    again = open_index(settings, embed_model=emb)
    assert len(again.passages) == len(first.passages)


def test_index_folder_depends_on_the_document_paths(corpus, tmp_path):
    docs, settings = corpus
    assert index_dir(settings, [docs]) != index_dir(settings, [tmp_path])


def test_open_index_reports_progress_per_file_document_and_batch(tmp_path):
    from fakes import HashEmbedding

    from rag.index import open_index
    from rag.settings import Settings

    docs = tmp_path / "docs"
    docs.mkdir()
    for n in range(3):
        (docs / f"d{n}.md").write_text(f"# Note {n}\n\n" + " ".join(f"Sentence {k} of note {n}." for k in range(12)))
    (docs / "skip.csv").write_text("a,b")
    settings = Settings().with_updates(index={"data_dir": tmp_path / "data", "show_progress": False},
                                       embedding={"batch_size": 10})
    events = []
    index = open_index(settings, [docs], embed_model=HashEmbedding(), on_progress=lambda *e: events.append(e))
    assert [e for e in events if e[0] == "reading"] == [("reading", k, 4) for k in range(1, 5)]
    assert [e for e in events if e[0] == "analysing"] == [("analysing", k, 3) for k in range(1, 4)]
    embedding = [e for e in events if e[0] == "embedding"]
    total = len(index.passages) - 1  # the first passage is embedded alone (model load)
    assert embedding[-1] == ("embedding", total, total) and len(embedding) == -(-total // 10)
    assert [e[1] for e in embedding] == sorted(e[1] for e in embedding)
    # reopened unchanged: files are read again, nothing is analysed or embedded
    events.clear()
    open_index(settings, [docs], embed_model=HashEmbedding(), on_progress=lambda *e: events.append(e))
    assert {e[0] for e in events} == {"reading"}
