"""The CLI contract as scripts use it: one `regiograph search "…" --k 10 --json` process per
question, each timed with its peak RSS, in passes over the same questions (a second pass shows
what the first left in the data directory's caches, e.g. token states computed over the budget).

    .venv/bin/python bench/cli_search_processes.py --data DIR --queries bench/queries_session17.json --n 12 --passes 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def questions(files: list[Path], n: int) -> list[str]:
    """The first ``n`` questions of the judged question files, in order."""
    found: list[str] = []
    for path in files:
        found += [q["query"] for q in json.loads(path.read_text(encoding="utf-8"))["queries"]]
    return found[:n]


def one_search(data: Path, query: str, k: int) -> tuple[float, float, list[str]]:
    """(seconds, peak RSS in MB, passage IRIs best first) of one CLI process."""
    env = {**os.environ, "REGIOGRAPH_DATA": str(data)}
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        with subprocess.Popen(
            [sys.executable, "-m", "regiograph", "search", query, "--k", str(k), "--json"],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=errors,
        ) as child:
            assert child.stdout is not None
            out = child.stdout.read()
            _, status, usage = os.wait4(child.pid, 0)  # its own peak RSS, which Popen.wait does not give
            child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        if child.returncode != 0:
            errors.seek(0)
            said = errors.read().decode("utf-8", "replace").strip()[-2000:]
            raise SystemExit(f"regiograph search {query!r} failed with exit code {child.returncode}:\n{said}")
    return seconds, usage.ru_maxrss / 1024, [hit["passage"] for hit in json.loads(out)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="data directory (ingested)")
    parser.add_argument("--queries", type=Path, nargs="+", default=[REPO / "bench" / "queries_session17.json"])
    parser.add_argument("--n", type=int, default=12, help="questions per pass")
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    asked = questions(args.queries, args.n)
    first: list[list[str]] = []
    for number in range(1, args.passes + 1):
        seconds, rss, same = [], [], 0
        for i, query in enumerate(asked):
            s, m, ranked = one_search(args.data, query, args.k)
            seconds.append(s)
            rss.append(m)
            if number == 1:
                first.append(ranked)
            else:
                same += ranked == first[i]
        line = (
            f"pass {number}: {len(asked)} processes, median {statistics.median(seconds):.2f} s "
            f"(min {min(seconds):.2f}, max {max(seconds):.2f}), peak RSS {min(rss):.0f}–{max(rss):.0f} MB"
        )
        print(line + (f", first {args.k} as in pass 1: {same}/{len(asked)}" if number > 1 else ""), flush=True)


if __name__ == "__main__":
    main()
