"""Cold start of the explorer: seconds from `streamlit run app.py` to the first search result on screen.

Starts Streamlit on a free loopback port over an already built data directory, opens
``/?page=search&q=QUERY`` in headless Chromium (Playwright, Debian's /usr/bin/chromium) as soon
as the server answers, and waits for the first highlighted result. Prints the seconds.

    .venv/bin/python bench/app_cold_start.py --data data [--query "study visits"] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--disable-sync", "--disable-quic",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def one_run(data: Path, query: str, chromium: str, script: str = "app.py") -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    port = free_port()
    env = dict(os.environ, REGIOGRAPH_DATA=str(data.resolve()))
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(REPO / script), "--server.port", str(port),
        "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                        if r.status == 200:
                            break
                except OSError:
                    if time.perf_counter() - started > 60:
                        raise RuntimeError("streamlit did not start in 60 s") from None
                    time.sleep(0.05)
            served = time.perf_counter() - started
            page.goto(f"http://127.0.0.1:{port}/?page=search&q={urllib.parse.quote(query)}")
            page.wait_for_selector(".rg-passage mark", timeout=120_000)
            first = time.perf_counter() - started
            # The same search again in a new tab: a warm process, what every later visitor sees.
            warm_page = browser.new_page()
            again = time.perf_counter()
            warm_page.goto(f"http://127.0.0.1:{port}/?page=search&q={urllib.parse.quote(query)}")
            warm_page.wait_for_selector(".rg-passage mark", timeout=120_000)
            warm = time.perf_counter() - again
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            browser.close()
    return {"server_up_s": served, "first_result_s": first, "warm_result_s": warm}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("REGIOGRAPH_DATA", "data")))
    ap.add_argument("--query", default="study visits for SME internationalisation")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--script", default="app.py", help="the script `streamlit run` starts (relative to the repository)")
    args = ap.parse_args()
    if not (args.data / "current").exists():
        sys.exit(f"no published data in {args.data}: run `regiograph --data {args.data} ingest ../shared/corpus/seeds` first")
    runs = [one_run(args.data, args.query, args.chromium, args.script) for _ in range(args.runs)]
    for i, r in enumerate(runs, start=1):
        print(f"run {i}: server up {r['server_up_s']:.2f} s · first result {r['first_result_s']:.2f} s · warm {r['warm_result_s']:.2f} s")
    firsts = [r["first_result_s"] for r in runs]
    print(f"cold start to first search result: median {statistics.median(firsts):.2f} s (min {min(firsts):.2f}, max {max(firsts):.2f})")


if __name__ == "__main__":
    main()
