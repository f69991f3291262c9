"""Lint throughput: `tuneline lint` vs the cookbook-style check, same file, same session.

Prints wall time and peak RSS of each (each in its own process) and the ratio.
Target: tuneline at most half the baseline's time, peak RSS under 600 MB.
Usage: python bench/lint_bench.py [--examples 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import synth


def run(cmd: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MB, exit code) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = synth.write(Path(tmp) / "train.jsonl", args.examples)
        size = data.stat().st_size / 1e6
        ours = [sys.executable, "-m", "tuneline", "lint", str(data), "--format", "json"]
        base = [sys.executable, str(Path(__file__).parent / "cookbook_baseline.py"), str(data)]
        best: dict[str, tuple[float, float]] = {}
        for _ in range(args.repeat):
            for name, cmd in (("baseline", base), ("tuneline", ours)):
                wall, rss, code = run(cmd)
                if code not in (0, 1):
                    print(f"{name} failed with exit code {code}", file=sys.stderr)
                    return 1
                prev = best.get(name)
                best[name] = (min(wall, prev[0]) if prev else wall, max(rss, prev[1]) if prev else rss)
        print(f"file: {args.examples:,} examples, {size:.1f} MB, {os.cpu_count()} CPUs")
        for name, (wall, rss) in best.items():
            print(f"{name:>9}: {wall:6.2f} s (best of {args.repeat})  peak RSS {rss:6.0f} MB")
        ratio = best["tuneline"][0] / best["baseline"][0]
        print(f"ratio tuneline/baseline time: {ratio:.2f} (target <= 0.50)  "
              f"peak RSS {best['tuneline'][1]:.0f} MB (target < 600)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
