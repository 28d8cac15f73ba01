"""Uploads: names sanitised and kept under the data dir, types checked by content,
limits per file, per session and in total, and errors that never show a server path.

Real ``rag.Assistant`` with the fake embedder (no models), through the Python
API and through the running Gradio app (gradio_client).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from rag import IngestError
from rag.assistant import safe_upload_name
from rag.ingest import sniff_binary_type

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
NOTE = "# Budget\n\nThe parish council approved the new footpath budget on Tuesday.\n"


def write(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


@pytest.mark.parametrize("name, stored", [
    ("../../x.txt", "x.txt"),
    ("/etc/cron.d/evil.txt", "evil.txt"),
    ("..\\..\\windows\\evil.md", "evil.md"),
    ("a\x00b.txt", "a_b.txt"),
    ("..", "document"),
    (".hidden.md", "hidden.md"),
    ("Über Straße.md", "Über_Straße.md"),
    ("", "document"),
])
def test_safe_upload_name(name, stored):
    assert safe_upload_name(name) == stored


@pytest.mark.parametrize("name", ["x" * 5000 + ".txt", "日本語" * 200 + ".md", "a." + "b" * 300])
def test_long_names_are_cut_to_what_a_file_system_takes(name):
    safe = safe_upload_name(name, 120)
    assert len(safe) <= 120 and len(safe.encode("utf-8")) <= 240
    assert "/" not in safe and not safe.startswith(".")


@pytest.mark.parametrize("name", ["../../escape.txt", "/tmp/abs.txt", "sub/dir/../../up.txt",
                                  "nul\x00byte.txt", "y" * 400 + ".txt", "\\\\server\\share\\x.txt"])
def test_hostile_names_are_stored_only_in_the_uploads_folder(make_assistant, tmp_path, name):
    assistant = make_assistant(llm=None)
    src = write(tmp_path / "in" / "upload.txt", NOTE)
    before = {p for p in tmp_path.rglob("*")}
    source = assistant.add_file(src, name=name)
    uploads = assistant.uploads_dir.resolve()
    created = {p for p in tmp_path.rglob("*")} - before
    files = [p for p in created if p.is_file() and "index-" not in str(p)]
    assert files and all(p.resolve().parent == uploads for p in files), created
    assert source in [d["source"] for d in assistant.documents()]
    assert "budget" in assistant.ask("What did the parish council approve?").text.lower()


def test_a_png_renamed_txt_is_refused_by_content_and_the_error_names_no_path(make_assistant, tmp_path):
    assistant = make_assistant(llm=None)
    before = assistant.documents()
    png = write(tmp_path / "secret-server-folder" / "photo.txt", PNG + bytes(range(256)))
    with pytest.raises(IngestError) as info:
        assistant.add_file(png, name="photo.txt")
    message = str(info.value)
    assert "PNG image" in message and message.startswith("photo.txt:")
    assert str(tmp_path) not in message and "secret-server-folder" not in message
    assert assistant.documents() == before
    assert not assistant.uploads_dir.exists() or not any(assistant.uploads_dir.iterdir())


@pytest.mark.parametrize("data, kind", [
    (PNG, "PNG"), (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"), (b"PK\x03\x04\x14\x00\x06\x00", "ZIP"),
    (b"\x7fELF\x02\x01\x01\x00", "ELF"), (b"\x1f\x8b\x08\x00\x00\x00", "gzip"), (b"GIF89a\x01\x00", "GIF"),
])
def test_binary_formats_are_recognised_by_their_first_bytes(data, kind):
    assert kind in sniff_binary_type(data + bytes(64))


@pytest.mark.parametrize("text", ["MZ is a postcode prefix.", "RIFF raff.", "ID3 tags explained.", "BZh..."])
def test_text_that_begins_like_a_signature_is_still_text(text):
    assert sniff_binary_type(text.encode()) is None


def test_a_text_file_named_md_is_fine(make_assistant, tmp_path):
    assistant = make_assistant(llm=None)
    plain = write(tmp_path / "plain.md", "Just text, no Markdown at all. The ferry leaves at noon.\n")
    assert assistant.add_file(plain).endswith("/plain.md")


def test_total_upload_limit(make_assistant, tmp_path):
    assistant = make_assistant(llm=None, ingest={"max_upload_bytes": 300})
    first = write(tmp_path / "a.txt", "The first note is about ferries. " * 5)  # 165 bytes
    second = write(tmp_path / "b.txt", "The second note is about trains. " * 5)
    assistant.add_file(first)
    with pytest.raises(IngestError) as info:
        assistant.add_file(second)
    assert "RAG_INGEST__MAX_UPLOAD_BYTES" in str(info.value) and str(tmp_path) not in str(info.value)
    sources = [d["source"] for d in assistant.documents()]
    assert any(s.endswith("/a.txt") for s in sources) and not any(s.endswith("/b.txt") for s in sources)
    assistant.remove_document(next(s for s in sources if s.endswith("/a.txt")))
    assistant.add_file(second)  # room again after a removal


def test_an_upload_is_removed_by_the_name_its_message_shows(make_assistant, tmp_path):
    """The upload message names the file only; that name is enough to remove it."""
    assistant = make_assistant(llm=None)
    assistant.add_file(write(tmp_path / "ferries.txt", "The ferry timetable changes in May. " * 3))
    assistant.remove_document("ferries.txt")
    assert not any(d["source"].endswith("ferries.txt") for d in assistant.documents())
    with pytest.raises(IngestError, match="is not in the index"):
        assistant.remove_document("ferries.txt")


# --------------------------------------------------------------------------- through the app

gr = pytest.importorskip("gradio")
pytest.importorskip("gradio_client")

from test_ui import serve  # noqa: E402


@pytest.fixture
def app(make_assistant):
    assistant = make_assistant(llm=None, ui={"max_session_upload_bytes": 500})
    with serve(assistant) as url:
        yield assistant, url


def client(url):
    from gradio_client import Client

    return Client(url, verbose=False)


def server_paths():
    return [tempfile.gettempdir(), "/tmp/", "gradio/", str(Path.cwd())]


def test_rejected_binary_upload_shows_no_server_path(app, tmp_path):
    from gradio_client import handle_file

    assistant, url = app
    png = write(tmp_path / "pic.txt", PNG + bytes(range(256)))
    status, *_ = client(url).predict(handle_file(str(png)), api_name="/upload")
    assert "Could not add pic.txt" in status and "PNG" in status
    for path in server_paths() + [str(assistant.settings.index.data_dir)]:
        assert path not in status, status


def test_one_bad_file_in_a_multi_file_upload_loses_nothing_else(app, tmp_path):
    from gradio_client import handle_file

    assistant, url = app
    good1 = write(tmp_path / "ferry.txt", "The ferry to the island leaves at noon every Sunday.\n")
    bad = write(tmp_path / "image.md", PNG + bytes(range(256)))
    empty = write(tmp_path / "empty.txt", "   \n")
    good2 = write(tmp_path / "train.md", "# Trains\n\nThe night train was cancelled in March.\n")
    c = client(url)
    status, *_ = c.predict([handle_file(str(p)) for p in (good1, bad, empty, good2)], api_name="/upload_files")
    sources = [d["source"] for d in c.predict(api_name="/documents")]
    assert any(s.endswith("/ferry.txt") for s in sources) and any(s.endswith("/train.md") for s in sources)
    assert not any(s.endswith(("/image.md", "/empty.txt")) for s in sources)
    assert "Could not add image.md" in status and "Could not add empty.txt" in status
    assert status.count("Added") == 2
    assert tempfile.gettempdir() not in status


def test_per_session_upload_limit(app, tmp_path):
    from gradio_client import handle_file

    assistant, url = app
    docs = [write(tmp_path / f"n{i}.txt", f"Note {i}: the harbour wall was repaired in week {i}. " * 4) for i in range(3)]
    c = client(url)
    results = [c.predict(handle_file(str(d)), api_name="/upload")[0] for d in docs]  # 200 bytes each, limit 500
    assert results[0].startswith("Added") and results[1].startswith("Added")
    assert "limit per session" in results[2] and "RAG_UI__MAX_SESSION_UPLOAD_BYTES" in results[2]
    # another session has its own allowance
    assert client(url).predict(handle_file(str(docs[2])), api_name="/upload")[0].startswith("Added")
