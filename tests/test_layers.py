"""The data flows one way: no nlviz package imports one above it, and the app reaches the library through
``nlviz.session`` only. Every import statement counts, including those inside functions."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: packages (and top-level modules) of nlviz, lowest first; a package may import only from lower layers
LAYERS = [
    ("registry", "jsonfile"),
    ("ops",),
    ("models",),
    ("data",),
    ("io",),
    ("extract",),
    ("run",),
    ("train",),
    ("analysis",),
    ("render",),
    ("export", "viewspec"),  # nlviz/viewspec.py only re-exports nlviz.export.viewspec
    ("session",),
    ("cli",),
]
LEVEL = {name: i for i, names in enumerate(LAYERS) for name in names}


_MODULE_PATH = re.compile(r"nlviz(\.\w+)+")


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every ``nlviz...`` import in a file: absolute and relative import statements anywhere
    (inside functions too) and module paths given as strings (``importlib.import_module("nlviz.io")``)."""
    rel = path.relative_to(ROOT).with_suffix("").parts
    package = list(rel[:-1])  # a module's relative imports resolve from its package (for __init__, itself)
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
            if base == "nlviz":  # packages by name; facade attributes (__version__) do not count
                out += [(node.lineno, f"nlviz.{a.name}") for a in node.names if a.name in LEVEL]
            else:
                out.append((node.lineno, base))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _MODULE_PATH.fullmatch(node.value):
            out.append((node.lineno, node.value))
    return [(line, m) for line, m in out if m == "nlviz" or m.startswith("nlviz.")]


def test_the_checker_sees_every_kind_of_import(tmp_path):
    f = ROOT / "nlviz" / "models" / "_probe_for_test.py"
    f.write_text(
        "import nlviz.io.public\n"
        "def f():\n    from nlviz import io\n    from ..io.convert import strip_prefix\n"
        "    import importlib; importlib.import_module('nlviz.export.job')\n"
        "from nlviz import __version__\n"
    )
    try:
        found = sorted(m for _, m in imports(f))
    finally:
        f.unlink()
    assert found == ["nlviz.export.job", "nlviz.io", "nlviz.io.convert", "nlviz.io.public"]


def unit(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def test_every_package_has_a_layer():
    found = {p.name for p in (ROOT / "nlviz").iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    found |= {p.stem for p in (ROOT / "nlviz").glob("*.py") if p.stem != "__init__"}
    assert found == set(LEVEL), f"give these a layer in LAYERS: {sorted(found - set(LEVEL))}"


def test_no_package_imports_one_above_it():
    bad = []
    for path in sorted((ROOT / "nlviz").rglob("*.py")):
        rel = path.relative_to(ROOT / "nlviz")
        if rel == Path("__init__.py"):
            continue  # the lazy facade (nlviz.load_model, nlviz.capture, ...)
        here = rel.parts[0].removesuffix(".py")
        for line, module in imports(path):
            there = unit(module)
            if there and there != here and LEVEL[there] > LEVEL[here]:
                bad.append(f"nlviz/{rel}:{line} ({here}) imports {module} ({there})")
    assert not bad, "imports against the data flow:\n" + "\n".join(bad)


def test_the_app_reaches_the_library_through_session_only():
    bad = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        for line, module in imports(path):
            if module not in ("nlviz.session",) and not module.startswith("nlviz.session."):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not bad, "the app must go through nlviz.session:\n" + "\n".join(bad)
