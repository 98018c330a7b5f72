"""``nlviz.models`` imports nothing from ``nlviz.io`` (checkpoint conversion depends on the models, never the
reverse): every import statement of every file under ``nlviz/models/``, including those inside functions and
relative ones, and every ``importlib`` module string, is read with ``ast``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nlviz.models

_MODULE_PATH = re.compile(r"nlviz\.io(\.\w+)*")


def io_imports(source: str, module: str) -> list[str]:
    """The ``nlviz.io`` modules that ``source`` (the text of module ``module``) imports or names for import."""
    package = module.split(".")
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            parent = package[: len(package) - node.level] if node.level else []  # a relative import's package
            base = ".".join(parent + ([node.module] if node.module else []))
            names = [base, *(f"{base}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names = [node.value]  # importlib.import_module("nlviz.io....")
        else:
            continue
        found += [n for n in names if _MODULE_PATH.fullmatch(n)]
    return found


def test_the_checker_sees_every_kind_of_import():
    source = (
        "import nlviz.io.public\n"
        "def f():\n    from nlviz import io\n    from ..io.convert import strip_prefix\n"
        "    import importlib; importlib.import_module('nlviz.io.layouts')\n"
        "from nlviz.ops.base import create\n"
    )
    assert sorted(io_imports(source, "nlviz.models.alexhex7")) == [
        "nlviz.io",
        "nlviz.io.convert",
        "nlviz.io.convert.strip_prefix",
        "nlviz.io.layouts",
        "nlviz.io.public",
    ]


def test_models_import_nothing_from_io():
    root = Path(nlviz.models.__file__).parent
    files = sorted(root.rglob("*.py"))
    assert len(files) > 5
    offenders = {}
    for path in files:
        parts = path.relative_to(root.parent.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        # a package's own relative imports resolve from the package, a module's from its parent
        found = io_imports(path.read_text(), module + (".__init__" if parts[-1] == "__init__" else ""))
        if found:
            offenders[str(path.relative_to(root))] = found
    assert offenders == {}
