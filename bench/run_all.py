"""Run every benchmark in bench/ and print one summary table (Markdown), with the machine.

Each `bench/<name>.py` is run as `python bench/<name>.py`; its figures are the JSON object
on the last line it prints. A benchmark added to the folder is picked up without a change
here. Exits non-zero when a benchmark fails or prints no figures.

    python bench/run_all.py [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def machine() -> str:
    """One line: cores, memory, CPU model, Python: what the figures were measured on."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f"{mem_kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        memory = "unknown RAM"
    load = f", load average {os.getloadavg()[0]:.1f} at start" if hasattr(os, "getloadavg") else ""
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}{load}"
    )


def benchmarks(only: list[str] | None) -> list[Path]:
    found = sorted(p for p in BENCH.glob("*.py") if p.name != Path(__file__).name)
    return [p for p in found if not only or p.stem in only]


def run(path: Path) -> tuple[dict | None, float, str]:
    """Run one benchmark; its figures (or None), its wall time, and its output's tail."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(path)],
        cwd=BENCH.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.monotonic() - started
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    figures = None
    if result.returncode == 0 and lines:
        try:
            figures = json.loads(lines[-1])
        except json.JSONDecodeError:
            figures = None
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-15:])
    return (figures if isinstance(figures, dict) else None), elapsed, tail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="run only these benchmarks (by name)")
    args = parser.parse_args()

    header = f"Machine: {machine()}"
    rows, failed = [], []
    for path in benchmarks(args.only):
        print(f"running {path.name} ...", flush=True)
        figures, elapsed, tail = run(path)
        if figures is None:
            failed.append(path.stem)
            print(f"{path.name} failed or printed no JSON figures:\n{tail}", file=sys.stderr)
            rows.append((path.stem, "FAILED", f"{elapsed:.0f} s"))
            continue
        shown = ", ".join(f"{k}={v}" for k, v in figures.items() if k != "bench")
        rows.append((path.stem, shown, f"{elapsed:.0f} s"))

    print()
    print(header)
    print()
    print("| benchmark | figures (last JSON line) | wall time |")
    print("| --- | --- | --- |")
    for name, shown, elapsed in rows:
        print(f"| {name} | {shown} | {elapsed} |")
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
