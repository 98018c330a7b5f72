"""The command line that serves the app: one home (nlviz.cli.serve.streamlit_command) for `nlviz app` and the
browser tests, with options Streamlit knows, and no garbage collection after every script run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from nlviz.cli import main as cli_main
from nlviz.cli.serve import SERVER_FLAGS, streamlit_command


def _flags(cmd: list[str]) -> dict[str, str]:
    rest = cmd[cmd.index("run") + 2 :]
    assert len(rest) % 2 == 0, rest
    return {rest[i].removeprefix("--"): rest[i + 1] for i in range(0, len(rest), 2)}


def test_every_flag_is_a_streamlit_option_of_the_right_type():
    from streamlit import config

    options = config.get_config_options()
    flags = _flags(streamlit_command(Path("app/Home.py"), 8555, address="127.0.0.1", max_upload_mb=300))
    assert flags["server.port"] == "8555" and flags["server.address"] == "127.0.0.1"
    assert flags["server.maxUploadSize"] == "300"
    for key, value in flags.items():
        assert key in options, f"{key} is not a Streamlit option"
        if options[key].type is bool:
            assert value in ("true", "false"), (key, value)


def test_the_post_script_gc_is_off():
    """Streamlit's gc.collect() after each run held the GIL ~170 ms between a click's last delta and the redraw."""
    assert dict(SERVER_FLAGS)["runner.postScriptGC"] == "false"
    assert _flags(streamlit_command(Path("x.py"), 1))["runner.postScriptGC"] == "false"


def test_nlviz_app_starts_exactly_that_command(monkeypatch):
    seen = {}
    monkeypatch.setattr(subprocess, "call", lambda cmd, env: seen.setdefault("cmd", cmd) and 0)
    assert cli_main.main(["app", "--port", "8600", "--address", "0.0.0.0"]) == 0
    home = cli_main.ROOT / "app" / "Home.py"
    assert seen["cmd"] == streamlit_command(home, 8600, address="0.0.0.0", max_upload_mb=200)
    assert seen["cmd"][:5] == [sys.executable, "-m", "nlviz.cli.serve", "run", str(home)]


def test_streamlit_accepts_every_flag_on_its_command_line():
    """`streamlit run --help` lists every option it takes from the command line."""
    out = subprocess.run(
        [sys.executable, "-m", "streamlit", "run", "--help"], capture_output=True, text=True, timeout=120
    ).stdout
    for key, _ in SERVER_FLAGS:
        assert f"--{key}" in out, key
