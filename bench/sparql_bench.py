"""SPARQL speed on a synthetic graph of the contract's shape: regiograph's store vs rdflib in memory.

Generates projects, regions, instruments (with skos:broader), practices, documents and passages
with multilingual labels as N-Quads (one named graph per document), plus the derived graph the
ingest would write for them (region pairs as ``rg:Cooperation`` nodes, ``rg:cooperatesWith``,
``rg:practiceCountry``), computed from the generated projects by the ingest's own functions;
``--triples`` counts the quads before that graph. It bulk-loads them into an
on-disk Oxigraph store, and times example-style queries (p50/p95 over repetitions, wall clock
and the CPU time of the querying thread) through ``kg.store.GraphStore.query`` — the path the
CLI, app and endpoint workers use. The whole-graph aggregations that have an example in the
library (``queries/*.rq``) are run from those very files, so the benchmark measures the product's
queries. At 1M triples it also loads the same quads into rdflib's in-memory ``Dataset`` (in a
child process) and runs the same query texts there, each run in a forked copy of the loaded
child that is stopped after ``--memory-cap`` seconds of CPU (reported as "> N s CPU"), so one slow query
neither stops the others nor forces a reload.

CPU time is reported beside wall time because the bench machine is shared: with a load average
above the number of cores, wall time is mostly waiting for a core.

    .venv/bin/python bench/sparql_bench.py --triples 1000000 --rdflib
    .venv/bin/python bench/sparql_bench.py --triples 10000000 --workdir W    # keeps the store in W
    .venv/bin/python bench/sparql_bench.py --triples 10000000 --workdir W --reuse-store --only NAME,NAME
    .venv/bin/python bench/sparql_bench.py --triples 10000000 --workdir W --reuse-store --derive-first   # re-derive an older store first
    .venv/bin/python bench/sparql_bench.py --triples 1000000 --time-derive   # also time the ingest's derive step
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RG = "https://w3id.org/regiograph/ontology#"
ID = "https://w3id.org/regiograph/id/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
NUTS = "http://data.europa.eu/nuts/code/"
XSD = "http://www.w3.org/2001/XMLSchema#"
TRIPLES_PER_PROJECT = 31  # measured on the generator below, before the derived graph
WALL_PER_CPU = 20  # an rdflib run gets this much wall time per second of its CPU cap (shared machine)

PREFIXES = f"""PREFIX rg: <{RG}>
PREFIX skos: <{SKOS}>
PREFIX dcterms: <{DCT}>
PREFIX prov: <{PROV}>
"""

WORDS = ("innovation", "export", "cluster", "digital", "green", "maritime", "health", "food", "energy", "tourism",
         "sme", "growth", "skills", "network", "mobility", "circular", "bio", "smart", "rural", "urban", "creative")
LANGS = ("en", "de", "fr", "da", "pl")
COUNTRIES = ("DK", "DE", "FR", "BE", "NL", "PL", "SE", "FI", "UK", "AT", "IE", "ES")


def generate(path: Path, n_projects: int, seed: int = 7) -> tuple[int, int]:
    """Write the synthetic dataset as N-Quads; returns (quads, of which in the derived graph)."""
    rnd = random.Random(seed)
    n_regions = max(50, n_projects // 200)
    n_instruments = 60
    n_practice_types = 20
    count = 0
    partner_rows: list[tuple[str, str]] = []  # (project, region), for the derived graph
    practice_rows: list[tuple[str, str]] = []  # (practice, a partner region of its project)
    type_rows: list[tuple[str, str]] = []  # (practice, its practice type)
    region_countries: dict[str, list[str]] = {}
    with path.open("w", encoding="utf-8") as out:
        w = out.write
        onto = f"<{ID}graph/ontology>"
        for i in range(n_instruments):
            inst = f"<{ID}instrument/i{i}>"
            w(f"{inst} <{RDF_TYPE}> <{RG}Instrument> {onto} .\n")
            w(f'{inst} <{SKOS}prefLabel> "Instrument {i}"@en {onto} .\n')
            w(f'{inst} <{SKOS}prefLabel> "Instrument {i} ({LANGS[i % 5]})"@{LANGS[i % 5]} {onto} .\n')
            count += 3
            if i >= 6:
                w(f"{inst} <{SKOS}broader> <{ID}instrument/i{i % 6}> {onto} .\n")
                count += 1
        for t in range(n_practice_types):
            w(f'<{ID}practice-type/t{t}> <{SKOS}prefLabel> "practice type {t}"@en {onto} .\n')
            count += 1
        for r in range(n_regions):
            reg = f"<{NUTS}R{r:05d}>"
            w(f"{reg} <{RDF_TYPE}> <{RG}Region> {onto} .\n")
            w(f'{reg} <{SKOS}prefLabel> "Region {r} {rnd.choice(WORDS)}"@en {onto} .\n')
            w(f'{reg} <{SKOS}altLabel> "Regionen {r}"@da {onto} .\n')
            w(f'{reg} <{RG}countryCode> "{COUNTRIES[r % len(COUNTRIES)]}" {onto} .\n')
            region_countries[reg[1:-1]] = [COUNTRIES[r % len(COUNTRIES)]]
            w(f'{reg} <{RG}nutsCode> "R{r:05d}" {onto} .\n')
            count += 5
        per_doc = 10
        for p in range(n_projects):
            d = p // per_doc
            g = f"<{ID}graph/d{d}>"
            doc = f"<{ID}document/d{d}>"
            if p % per_doc == 0:
                lang = LANGS[d % 5]
                w(f"{g} <{PROV}wasDerivedFrom> {doc} {g} .\n")
                w(f"{doc} <{RDF_TYPE}> <{RG}Document> {g} .\n")
                w(f'{doc} <{DCT}language> "{lang}" {g} .\n')
                w(f'{doc} <{DCT}source> "doc{d}.pdf" {g} .\n')
                count += 4
            proj = f"<{ID}project/p{p}>"
            words = " ".join(rnd.sample(WORDS, 3))
            w(f"{proj} <{RDF_TYPE}> <{RG}Project> {g} .\n")
            w(f'{proj} <{SKOS}prefLabel> "Project {p} {words}"@en {g} .\n')
            w(f'{proj} <{SKOS}altLabel> "P{p}"@en {g} .\n')
            w(f'{proj} <{SKOS}altLabel> "Projekt {p} {words}"@{LANGS[p % 5]} {g} .\n')
            w(f"{proj} <{RG}fundedBy> <{ID}instrument/i{rnd.randrange(n_instruments)}> {g} .\n")
            w(f'{proj} <{RG}budgetEUR> "{rnd.randrange(10_000, 5_000_000)}"^^<{XSD}decimal> {g} .\n')
            count += 6
            regions = [f"{NUTS}R{r:05d}" for r in rnd.sample(range(n_regions), rnd.randint(2, 5))]
            for region in regions:
                w(f"{proj} <{RG}partnerRegion> <{region}> {g} .\n")
                count += 1
                partner_rows.append((proj[1:-1], region))
            passages = []
            for k in range(2):
                pas = f"<{ID}passage/p{p}-{k}>"
                passages.append(pas)
                w(f"{pas} <{RDF_TYPE}> <{RG}Passage> {g} .\n")
                w(f"{pas} <{DCT}isPartOf> {doc} {g} .\n")
                w(f'{pas} <{RG}text> "Project {p} works on {words} with SMEs in several regions."@en {g} .\n')
                w(f'{pas} <{DCT}language> "en" {g} .\n')
                w(f"{proj} <{RG}mentionedIn> {pas} {g} .\n")
                count += 5
            for k in range(2):
                pr = f"<{ID}practice/p{p}-{k}>"
                w(f"{proj} <{RG}hasPractice> {pr} {g} .\n")
                w(f"{pr} <{RDF_TYPE}> <{RG}Practice> {g} .\n")
                w(f'{pr} <{SKOS}prefLabel> "practice {k} of project {p}"@en {g} .\n')
                practice_type = f"{ID}practice-type/t{rnd.randrange(n_practice_types)}"
                w(f"{pr} <{RG}practiceType> <{practice_type}> {g} .\n")
                type_rows.append((pr[1:-1], practice_type))
                w(f"{pr} <{RG}mentionedIn> {passages[k]} {g} .\n")
                count += 5
                practice_rows.extend((pr[1:-1], region) for region in regions)
        derived = write_derived(w, partner_rows, practice_rows, region_countries, type_rows)
    return count + derived, derived


def write_derived(
    w: Callable[[str], object], partner_rows: list[tuple[str, str]], practice_rows: list[tuple[str, str]],
    region_countries: dict[str, list[str]], type_rows: list[tuple[str, str]],
) -> int:
    """The derived graph, computed from the generated projects by the ingest's own functions
    (``kg.queries.region_pairs``, ``practice_countries``, ``practice_tallies``,
    ``kg.writer.derived_ntriples``)."""
    from kg.namespaces import DERIVED_GRAPH
    from kg.queries import practice_countries, practice_tallies, region_pairs
    from kg.writer import derived_ntriples

    graph = f"<{DERIVED_GRAPH}> .\n"
    count = 0
    countries = practice_countries(practice_rows, region_countries)
    tallies = practice_tallies(type_rows, countries)
    for chunk in derived_ntriples(region_pairs(partner_rows), countries, ID, tallies=tallies):
        for line in chunk.splitlines():
            w(line[:-1] + graph)  # "s p o ." → "s p o <derived> ."
            count += 1
    return count


#: bench name → example query (queries/NAME.rq) run as-is: the library's parameter-free aggregations.
EXAMPLES = {
    "practices_per_type_country": "practices_by_type_and_country",
    "region_pair_network": "region_pair_network",
    "entity_counts_per_class": "entity_counts_per_class",
    "documents_by_language": "documents_by_language",
}


def example_text(name: str) -> str:
    from kg.examples import example_queries

    return {ex.name: ex.query for ex in example_queries()}[name]


def queries(n_projects: int, n_regions: int) -> dict[str, tuple[str, str]]:
    """name → (kind, query). Kinds: 'neighbourhood' / 'listing' (target p95 < 50 ms), 'aggregation' (< 2 s)."""
    project = f"<{ID}project/p{n_projects // 2}>"
    region = f"<{NUTS}R{n_regions // 3:05d}>"
    return {
        "one_project_practices": ("neighbourhood", PREFIXES + f"""SELECT ?practice ?label ?type WHERE {{
            {project} rg:hasPractice ?practice . ?practice skos:prefLabel ?label ; rg:practiceType ?type }}"""),
        "one_region_partners": ("neighbourhood", PREFIXES + f"""SELECT ?partner (COUNT(DISTINCT ?p) AS ?n) WHERE {{
            ?p rg:partnerRegion {region}, ?partner . FILTER(?partner != {region}) }} GROUP BY ?partner ORDER BY DESC(?n)"""),
        "provenance_lookup": ("neighbourhood", PREFIXES + f"""SELECT ?property ?value ?source ?text WHERE {{
            GRAPH ?g {{ {project} ?property ?value }} ?g prov:wasDerivedFrom ?doc . ?doc dcterms:source ?source .
            {project} rg:mentionedIn ?passage . ?passage rg:text ?text }}"""),
        "projects_by_label_exact": ("neighbourhood", PREFIXES + f"""SELECT ?p WHERE {{ ?p skos:altLabel "P{n_projects // 3}"@en }}"""),
        "listing_limit_100": ("listing", PREFIXES + """SELECT ?p ?label WHERE { ?p a rg:Project ; skos:prefLabel ?label } LIMIT 100"""),
        "listing_ordered_limit_100": ("listing", PREFIXES + """SELECT ?r ?label WHERE { ?r a rg:Region ; skos:prefLabel ?label } ORDER BY ?label LIMIT 100"""),
        "label_search_contains": ("aggregation", PREFIXES + """SELECT ?e ?label WHERE { ?e skos:prefLabel|skos:altLabel ?label .
            FILTER(CONTAINS(LCASE(STR(?label)), "maritime circular")) } LIMIT 100"""),
        "count_per_class": ("aggregation", PREFIXES + """SELECT ?c (COUNT(?e) AS ?n) WHERE { ?e a ?c } GROUP BY ?c"""),
        "projects_per_instrument_narrower": ("aggregation", PREFIXES + f"""SELECT ?top (COUNT(DISTINCT ?p) AS ?n) WHERE {{
            VALUES ?top {{ <{ID}instrument/i0> <{ID}instrument/i1> }} ?i skos:broader* ?top . ?p rg:fundedBy ?i }} GROUP BY ?top"""),
        **{name: ("aggregation", example_text(example)) for name, example in EXAMPLES.items()},
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def rss_mb(pid: int | None = None, field: str = "VmRSS") -> float:
    """Resident memory (``VmRSS``) or its peak (``VmHWM``) of a process, in MB."""
    status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    for line in status.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def du_mb(path: Path) -> float:
    return int(subprocess.check_output(["du", "-sk", str(path)]).split()[0]) / 1024


def bench_regiograph(nq: Path, store_dir: Path, qs: dict[str, tuple[str, str]], reps: int, load: bool = True) -> dict[str, Any]:
    import pyoxigraph as ox

    from kg.store import GraphStore

    started, c = time.perf_counter(), time.process_time()
    if load:
        store = ox.Store(str(store_dir))
        store.bulk_load(path=str(nq), format=ox.RdfFormat.N_QUADS)
        store.optimize()
        store.flush()
        del store
    load_s, load_cpu_s = time.perf_counter() - started, time.process_time() - c
    graph = GraphStore(ox.Store.read_only(str(store_dir)), read_only=True, path=store_dir)
    out: dict[str, Any] = {"load_s": load_s, "load_cpu_s": load_cpu_s, "load_average_after_load": load_average(), "disk_mb": du_mb(store_dir), "triples": graph.triple_count(), "queries": {}}
    for name, (kind, text) in qs.items():
        n = reps if kind != "aggregation" else max(3, reps // 4)
        t = time.perf_counter()
        graph.query(text)  # warm-up
        if time.perf_counter() - t > 20:
            n = 2  # a query over 20 s: two timed runs are enough to report it
        times, cpu = [], []
        rows = 0
        for _ in range(n):
            t, c = time.perf_counter(), time.thread_time()
            result = graph.query(text)
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.thread_time() - c) * 1000)
            rows = len(result.rows)
        q = out["queries"][name] = {
            "kind": kind, "example": EXAMPLES.get(name), "p50_ms": statistics.median(times), "p95_ms": percentile(times, 0.95),
            "cpu_p50_ms": statistics.median(cpu), "rows": rows, "reps": n, "load_average": load_average(),
        }
        print(f"  regiograph {name:<34} p50 {q['p50_ms']:9.1f} ms  p95 {q['p95_ms']:9.1f} ms  cpu p50 {q['cpu_p50_ms']:9.1f} ms  "
              f"rows {rows}  (load {q['load_average']})", flush=True)
    out["rss_mb"] = rss_mb()
    out["peak_rss_mb"] = rss_mb(field="VmHWM")
    return out


def time_derive(store_dir: Path) -> dict[str, Any]:
    """Run the ingest's derive step (``kg.queries.derive_cooperation``) on the loaded store once."""
    import pyoxigraph as ox

    from kg.queries import derive_cooperation
    from kg.store import GraphStore

    graph = GraphStore(ox.Store(str(store_dir)), read_only=False, path=store_dir)
    t, c = time.perf_counter(), time.process_time()
    pairs = derive_cooperation(graph)
    out = {"wall_s": time.perf_counter() - t, "cpu_s": time.process_time() - c, "pairs": pairs, "load_average": load_average(),
           "peak_rss_mb": rss_mb(field="VmHWM")}
    print(f"derive_cooperation: {pairs:,} pairs in {out['wall_s']:.1f} s ({out['cpu_s']:.1f} s CPU; load {out['load_average']})", flush=True)
    graph.close()
    return out


def _rdflib_run(ds: Any, text: str, conn: Any, cap_s: float) -> None:
    """In a forked copy of the loaded child: run one query, send (wall ms, CPU ms, rows).

    The kernel stops the copy after ``cap_s`` seconds of CPU (``RLIMIT_CPU``): on a shared
    machine a wall-clock cap would measure the other jobs.
    """
    import resource

    resource.setrlimit(resource.RLIMIT_CPU, (int(cap_s), int(cap_s) + 5))
    t, c = time.perf_counter(), time.process_time()
    rows = len(list(ds.query(text)))
    conn.send(((time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000, rows))


def _rdflib_child(nq: str, conn: Any, plan: list[tuple[str, str]], cap_s: float) -> None:
    from rdflib import Dataset

    t, c = time.perf_counter(), time.process_time()
    ds = Dataset(default_union=True)
    ds.parse(nq, format="nquads")
    conn.send(("load", time.perf_counter() - t, rss_mb(), time.process_time() - c))
    list(ds.query("SELECT ?s WHERE { ?s ?p ?o } LIMIT 1"))  # imports and initialises the SPARQL engine once, before the forks
    fork = multiprocessing.get_context("fork")
    for name, text in plan:
        here, there = fork.Pipe()
        run = fork.Process(target=_rdflib_run, args=(ds, text, there, cap_s))
        run.start()
        run.join(cap_s * WALL_PER_CPU)
        if here.poll(0):
            conn.send((name, *here.recv()))
        else:
            run.kill()
            conn.send((name, None, None, None))
        run.join()
    conn.send(("done", 0, rss_mb()))


def bench_rdflib(nq: Path, qs: dict[str, tuple[str, str]], reps: int, cap_s: float) -> dict[str, Any]:
    """rdflib's in-memory Dataset in a child process; each query run in a fork, stopped after ``cap_s`` of CPU."""
    ctx = multiprocessing.get_context("spawn")
    plan = [(name, text) for name, (kind, text) in qs.items() for _ in range(reps if kind != "aggregation" else 1)]
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_rdflib_child, args=(str(nq), child, plan, cap_s))
    proc.start()
    out: dict[str, Any] = {"queries": {}}
    if not parent.poll(3600):
        proc.kill()
        return {"error": "load took over 60 min"}
    _, load_s, rss, load_cpu_s = parent.recv()
    out.update(load_s=load_s, load_cpu_s=load_cpu_s, rss_mb=rss)
    print(f"  rdflib load {load_s:.1f} s ({load_cpu_s:.1f} s CPU), RSS {rss:.0f} MB  (load {load_average()})", flush=True)
    times: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}
    capped: set[str] = set()
    while parent.poll(cap_s * WALL_PER_CPU + 60):
        message = parent.recv()
        if message[0] == "done":
            break
        got, ms, cpu, rows = message
        if ms is None:
            capped.add(got)
            out["queries"][got] = {"capped": f"> {cap_s:g} s CPU", "cap_s": cap_s, "load_average": load_average()}
            print(f"  rdflib     {got:<34} over {cap_s:g} s of CPU, stopped  (load {load_average()})", flush=True)
            continue
        if got in capped:
            continue
        times.setdefault(got, []).append(ms)
        cpus.setdefault(got, []).append(cpu)
        out["queries"][got] = {"p50_ms": statistics.median(times[got]), "p95_ms": percentile(times[got], 0.95),
                               "cpu_p50_ms": statistics.median(cpus[got]), "rows": rows, "reps": len(times[got]),
                               "load_average": load_average()}
    proc.join(30)
    for name, q in out["queries"].items():
        if "p50_ms" in q:
            print(f"  rdflib     {name:<34} p50 {q['p50_ms']:9.1f} ms  p95 {q['p95_ms']:9.1f} ms  cpu p50 {q['cpu_p50_ms']:9.1f} ms  rows {q['rows']}", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--triples", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--rdflib", action="store_true", help="also run rdflib's in-memory store (use at 1M only)")
    ap.add_argument("--rdflib-reps", type=int, default=3)
    ap.add_argument("--memory-cap", type=float, default=120.0, help="CPU seconds per in-memory query run (then stopped)")
    ap.add_argument("--only", default="", help="comma-separated query names to run (default: all)")
    ap.add_argument("--time-derive", action="store_true", help="after the queries, time the ingest's derive step on the store")
    ap.add_argument("--derive-first", action="store_true", help="with --reuse-store: run (and time) the ingest's derive step before the queries, "
                    "so a store generated by an older version gets the current derived facts")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--reuse-store", action="store_true", help="with --workdir: query the store an earlier run loaded there")
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = ap.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="rg-sparql-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    n_projects = max(100, args.triples // TRIPLES_PER_PROJECT)
    nq = work / "data.nq"
    store_dir = work / "store"
    meta = work / "generated.json"
    reuse = args.reuse_store and meta.exists() and store_dir.is_dir()
    if reuse:  # the store of an earlier run with the same --workdir: only the queries run again
        generated = json.loads(meta.read_text())
        if generated["projects"] != n_projects:
            ap.error(f"{store_dir} holds {generated['projects']:,} projects, not {n_projects:,}")
        print(f"reusing {store_dir}: {generated['quads']:,} quads ({generated['derived_quads']:,} of them derived)", flush=True)
    else:
        t, c = time.perf_counter(), time.process_time()
        quads, derived = generate(nq, n_projects)
        gen_s, gen_cpu_s = time.perf_counter() - t, time.process_time() - c
        generated = {"quads": quads, "derived_quads": derived, "projects": n_projects, "generate_s": gen_s, "generate_cpu_s": gen_cpu_s}
        print(f"generated {quads:,} quads ({derived:,} of them derived; {n_projects:,} projects) in {gen_s:.1f} s "
              f"({gen_cpu_s:.1f} s CPU): {nq} ({nq.stat().st_size / 1e6:.0f} MB)", flush=True)
        shutil.rmtree(store_dir, ignore_errors=True)
        meta.unlink(missing_ok=True)
    derive_first = time_derive(store_dir) if reuse and args.derive_first else None
    qs = queries(n_projects, max(50, n_projects // 200))
    if args.only:
        qs = {name: q for name, q in qs.items() if name in args.only.split(",")}
    report: dict[str, Any] = {**generated, "reused_store": reuse, "load_average_start": load_average()}
    if derive_first is not None:
        report["derive_first"] = derive_first
    report["regiograph"] = bench_regiograph(nq, store_dir, qs, args.reps, load=not reuse)
    meta.write_text(json.dumps(generated))
    r = report["regiograph"]
    print(f"regiograph: load {r['load_s']:.1f} s ({r['load_cpu_s']:.1f} s CPU), disk {r['disk_mb']:.0f} MB, "
          f"RSS {r['rss_mb']:.0f} MB (peak {r['peak_rss_mb']:.0f} MB)", flush=True)
    if args.time_derive:
        report["derive"] = time_derive(store_dir)
    if args.rdflib:
        report["rdflib"] = bench_rdflib(nq, qs, args.rdflib_reps, args.memory_cap)
        report["speedup"] = {}
        for name, q in report["rdflib"].get("queries", {}).items():
            ours = r["queries"][name]
            if "p50_ms" in q:
                wall, cpu = q["p50_ms"] / max(ours["p50_ms"], 0.001), q["cpu_p50_ms"] / max(ours["cpu_p50_ms"], 0.001)
                report["speedup"][name] = {"wall": wall, "cpu": cpu}
                print(f"  speed-up {name:<34} wall {wall:8.1f}×  cpu {cpu:8.1f}×", flush=True)
            else:
                floor = q["cap_s"] * 1000 / max(ours["cpu_p50_ms"], 0.001)
                report["speedup"][name] = {"cpu_over": floor}
                print(f"  speed-up {name:<34} cpu > {floor:6.0f}× (rdflib stopped at {q['cap_s']:g} s of CPU)", flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
