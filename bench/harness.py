"""The measurement harness every benchmark script uses, so they all measure and compare the same way.

- **Fresh processes.** Each measurement runs in its own process (:func:`in_fresh_process` runs
  ``python <script> --worker <json spec>``; the script's ``main`` passes that spec to :func:`worker_main`), so a
  peak-memory figure is that of one measurement and nothing is warm from another.
- **Times.** :func:`measure` runs ``warmups`` untimed runs, then ``repeats`` timed ones, and reports the
  **median** and the **p95** of the timed runs (95th percentile, linear between order statistics like numpy's
  default; with a handful of repeats it lies close to the slowest run).
- **Memory.** The growth of the process's peak RSS (``VmHWM``) over its RSS when :func:`measure` starts, i.e.
  after the script built its module and input: the working memory of the runs, warmups included. The kernel's
  peak mark is reset first (``/proc/self/clear_refs``); where that is not allowed, ``clean_peak`` is False and
  the figure includes the setup.
- **Ratios**, always the same way round: time = reference / nlviz (>1: nlviz is faster), memory = nlviz /
  reference (<1: nlviz needs less) (:func:`speedup`, :func:`memory_ratio`, :func:`ratio_cell`).
- **Reports**: markdown tables and the rewrite of one section of bench/README.md (support.markdown).

Importing this module puts the repository root first on ``sys.path`` (the checkout's ``nlviz`` and ``support``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "bench" / "README.md"
if str(ROOT) not in sys.path[:1]:
    sys.path.insert(0, str(ROOT))

from support.markdown import table, table_header, table_row, write_section  # noqa: E402

__all__ = [
    "README",
    "ROOT",
    "argument_parser",
    "fmt_measure",
    "fmt_ratio",
    "fmt_time",
    "in_fresh_process",
    "measure",
    "memory_ratio",
    "percentile",
    "ratio_cell",
    "speedup",
    "summary",
    "table",
    "table_header",
    "table_row",
    "worker_main",
    "write_section",
]


# ---- processes ------------------------------------------------------------------------------------------------


def argument_parser(doc: str | None) -> argparse.ArgumentParser:
    """The script's parser, with the hidden ``--worker SPEC`` flag of :func:`in_fresh_process`."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    return ap


def worker_main(worker: Callable[[dict], dict], spec: str) -> int:
    """In the worker process: run ``worker(spec)`` and print its result as the last line of stdout."""
    print(json.dumps(worker(json.loads(spec))), flush=True)
    return 0


def in_fresh_process(script: str | Path, spec: dict, threads: int | None = None) -> dict:
    """``worker(spec)`` of ``script`` in a new Python process (``threads``: its torch/OpenMP/MKL threads; by
    default the environment's); ``{"error": last stderr line}`` when it fails."""
    env = dict(os.environ)
    if threads is not None:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    cmd = [sys.executable, str(script), "--worker", json.dumps(spec)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1][:200]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---- memory ---------------------------------------------------------------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS; False where that is not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


# ---- times ----------------------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0–100), linear between order statistics (numpy's default method)."""
    v = sorted(values)
    k = (len(v) - 1) * q / 100
    lo, hi = math.floor(k), math.ceil(k)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def summary(times: list[float]) -> dict:
    """``median_s``, ``p95_s`` and ``runs`` of a list of run times (seconds)."""
    return {"median_s": statistics.median(times), "p95_s": percentile(times, 95), "runs": len(times)}


def measure(run: Callable[[int], object], repeats: int, warmups: int = 1) -> dict:
    """Call ``run(0)`` ``warmups`` times untimed, then ``run(1)`` … ``run(repeats)`` timed (``run`` may use the
    index, e.g. to take another query each time). Returns :func:`summary` of the timed runs plus ``peak_mb``
    (the growth of the peak RSS over the RSS at the call, warmups included) and ``clean_peak``."""
    clean = reset_peak()
    base = rss_mb()
    for _ in range(warmups):
        run(0)
    times = []
    for i in range(1, repeats + 1):
        t0 = time.perf_counter()
        run(i)
        times.append(time.perf_counter() - t0)
    return {**summary(times), "peak_mb": max(0.0, peak_mb() - base), "clean_peak": clean}


# ---- ratios and formatting ------------------------------------------------------------------------------------


def speedup(ref: dict, ours: dict, key: str = "median_s") -> float | None:
    """Reference time / nlviz time (>1: nlviz is faster); None when either side has no time."""
    if key not in ref or key not in ours or not ours[key]:
        return None
    return ref[key] / ours[key]


def memory_ratio(ref: dict, ours: dict) -> float | None:
    """nlviz peak memory / reference peak memory (<1: nlviz needs less); None below 1 MB of reference memory,
    where the ratio would be noise."""
    if "peak_mb" not in ref or "peak_mb" not in ours or ref["peak_mb"] < 1:
        return None
    return ours["peak_mb"] / ref["peak_mb"]


def fmt_ratio(x: float | None) -> str:
    """2,238× · 229× · 25.8× · 1.80× · 0.98× · 0.00312×: three significant digits, all digits from 100 on."""
    if x is None or math.isnan(x):
        return "—"
    if x >= 1:
        return f"{x:,.0f}×" if x >= 100 else f"{x:.1f}×" if x >= 10 else f"{x:.2f}×"
    return f"{x:.3g}×"


def ratio_cell(ref: dict, ours: dict) -> str:
    """``"<time ratio> faster, <memory ratio> memory"`` of the medians; "—" when a side failed or was not run."""
    s = speedup(ref, ours)
    if s is None:
        return "—"
    m = memory_ratio(ref, ours)
    return f"{fmt_ratio(s)} faster, " + (f"{fmt_ratio(m)} memory" if m is not None else "memory not compared")


def fmt_time(s: float) -> str:
    """0.85 ms · 65 ms · 12.13 s."""
    if s < 0.01:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e3:.0f} ms" if s < 1 else f"{s:.2f} s"


def fmt_measure(r: dict, memory: bool = True) -> str:
    """``"65 ms (p95 70 ms) / 58 MB"``; "not run" or "fails" for a skipped or failed measurement."""
    if "skipped" in r:
        return "not run"
    if "error" in r:
        return "fails"
    text = f"{fmt_time(r['median_s'])} (p95 {fmt_time(r['p95_s'])})"
    return text + (f" / {r['peak_mb']:.0f} MB" if memory else "")
