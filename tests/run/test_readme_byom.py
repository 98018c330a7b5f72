"""README "Bring your own model" stays true: its files, written into an empty folder, run, and its commands print
what the README says they print."""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("## Bring your own model", 1)[1].split("\n## ", 1)[0]


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", _section(), flags=re.S)


def _commands() -> list[tuple[str, list[str]]]:
    """(command, expected output lines) of every ``nlviz ...`` line in the bash blocks."""
    out = []
    for block in _blocks("bash"):
        lines = block.replace("\\\n", " ").splitlines()
        for i, line in enumerate(lines):
            if line.startswith("nlviz "):
                expected = []
                for nxt in lines[i + 1 :]:
                    if not nxt.startswith("# "):
                        break
                    expected.append(nxt[2:])
                out.append((line.split("  #")[0].strip(), expected))
    return out


def _run(argv: list[str], cwd: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """An empty folder with the README's files, its weights saved and its clips made."""
    d = tmp_path_factory.mktemp("byom")
    json_spec = re.search(r"```json\n(.*?)```", _section(), flags=re.S)[1]
    (d / "spec.json").write_text(json_spec)
    for code in _blocks("python"):
        name = ast.get_docstring(ast.parse(code)) or ""
        file = name.split(":", 1)[0] if name.split(":", 1)[0].endswith(".py") else "explore.py"
        (d / file).write_text(code)
    assert {p.name for p in d.iterdir()} >= {"my_model.py", "save_weights.py", "make_clips.py", "explore.py"}
    _run([sys.executable, "save_weights.py"], d)
    _run([sys.executable, "make_clips.py"], d)
    return d


def test_the_python_form_prints_what_the_readme_shows(folder):
    printed = _run([sys.executable, "explore.py"], folder).splitlines()
    shown = re.search(r"```\n(\{'shape'.*?)```", _section(), flags=re.S)[1].splitlines()
    assert len(printed) == len(shown) == 4
    assert printed[0] == shown[0] and printed[2:] == shown[2:]
    assert float(printed[1].split(": ")[1]) < 1e-5 and shown[1].startswith("declaration error: ")


@pytest.mark.parametrize(
    "which",
    ["nlviz export --model", "nlviz eval --model my_model.py:build --weights w.pth --input-spec spec.json --data"],
)
def test_the_commands_print_what_the_readme_shows(folder, which):
    ((command, expected),) = [(c, e) for c, e in _commands() if c.startswith(which)]
    stdout = _run([sys.executable, "-m", "nlviz.cli.main", *shlex.split(command)[1:]], folder)
    assert expected and stdout.splitlines()[-1] == expected[0]
    if which.startswith("nlviz export"):
        files = {p.name for p in (folder / "out" / "synthetic-0").iterdir()}
        assert {
            "my_model.build__nl_q00_arrows.png",
            "my_model.build__nl_q00_heatmap.png",
            "my_model.build__nl.json",
        } <= files
