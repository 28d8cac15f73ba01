"""ui/ and eval/ import from rag only what docs/API_CONTRACT.md lists."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = (ROOT / "docs" / "API_CONTRACT.md").read_text(encoding="utf-8")


def rag_imports():
    """``rag.<module>.<name>`` (or ``rag.<name>``) for every rag import under ui/ and eval/."""
    found = set()
    for path in sorted((ROOT / "ui").glob("*.py")) + sorted((ROOT / "eval").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "rag":
                found |= {(f"{node.module}.{a.name}", path.relative_to(ROOT).as_posix()) for a in node.names}
            elif isinstance(node, ast.Import):
                found |= {(a.name, path.relative_to(ROOT).as_posix()) for a in node.names if a.name.split(".")[0] == "rag"}
    return sorted(found)


@pytest.mark.parametrize("name, importer", rag_imports())
def test_every_rag_import_of_ui_and_eval_is_in_the_contract(name, importer):
    assert f"`{name}" in CONTRACT, f"{importer} imports {name}, which docs/API_CONTRACT.md does not list"
