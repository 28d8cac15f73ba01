"""Shared fixtures: an isolated data directory, the article, fakes."""

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "seeds" / "rferl-2020-04-26-us-russia-reset.txt"
sys.path.insert(0, str(Path(__file__).resolve().parent))  # for `from fakes import …`

# Models come inside packages: prove nothing needs a hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: uses the real embedded models")


@pytest.fixture(scope="session", autouse=True)
def _isolated_data_dir(tmp_path_factory):
    """Indexes built by tests go to a temporary folder, never the project's."""
    data = tmp_path_factory.mktemp("rag-data")
    old = os.environ.get("RAG_INDEX__DATA_DIR")
    os.environ["RAG_INDEX__DATA_DIR"] = str(data)
    yield data
    if old is None:
        os.environ.pop("RAG_INDEX__DATA_DIR", None)
    else:
        os.environ["RAG_INDEX__DATA_DIR"] = old


@pytest.fixture
def article_text() -> str:
    return ARTICLE.read_text(encoding="utf-8")


@pytest.fixture
def fake_llm():
    from fakes import FakeLLM

    return FakeLLM()


@pytest.fixture
def index_backend():
    """The index backend tests build on; a test module runs both by overriding
    this with ``both_index_backends``."""
    return "faiss"


def release_milvus():
    """Close the Milvus Lite servers a test opened (only if Milvus was used)."""
    if "rag.milvus" in sys.modules:
        sys.modules["rag.milvus"].release_all()


@pytest.fixture
def make_assistant(tmp_path, index_backend):
    """An Assistant over the article (or given paths) with fake models."""
    from fakes import HashEmbedding

    from rag.assistant import Assistant
    from rag.settings import Settings

    def make(llm=None, paths=None, **settings):
        index = {"data_dir": tmp_path / "data", "show_progress": False, "backend": index_backend,
                 **settings.pop("index", {})}
        s = Settings().with_updates(index=index, **settings)
        return Assistant(settings=s, paths=paths or [ARTICLE], llm=llm, embed_model=HashEmbedding())

    yield make
    release_milvus()


# -- headless Chromium ----------------------------------------------------------------------

# Debian's chromium, never a downloaded browser (`make install-test` installs it).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module (Playwright, Debian's binary).

    Skips when playwright or ``chromium`` is missing; the browser tests of
    ``test_ui_browser*.py`` all take it.
    """
    playwright_api = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium, or `make install-test`); "
                    "these tests never download a browser")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
