"""Add documents: upload, ingest with progress, and see what was extracted or went wrong."""

from __future__ import annotations

import re
import shutil
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

import streamlit as st

from kg import views as kv
from views import common as c


def render() -> None:
    c.run_page(_body)


def safe_name(name: str, index: int = 0) -> str:
    """A file name that cannot escape its folder: base name only, safe characters, kept suffix."""
    base = Path(name.replace("\\", "/")).name
    base = unicodedata.normalize("NFKC", base)
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = re.sub(r"[^\w\-]+", "_", stem, flags=re.UNICODE).strip("._") or f"upload-{index}"
    suffix = re.sub(r"[^A-Za-z0-9]+", "", suffix)[:10].lower()
    return (stem[:120] + (f".{suffix}" if suffix else "")).lstrip(".")


def _body() -> None:
    st.title("Add documents")
    s = c.settings()
    from ingest.pipeline import SUPPORTED_SUFFIXES

    st.caption(
        f"Reports, case studies and good-practice descriptions (txt, md, html, pdf, docx) and lists of operations "
        f"(csv, tsv, xlsx, ods, json), up to {s.max_file_mb:g} MB each. They are added to `{s.data_dir}`; search and the "
        "graph show them once the batch is published."
    )
    files = st.file_uploader(
        "Files", accept_multiple_files=True, type=sorted(x.lstrip(".") for x in SUPPORTED_SUFFIXES), key="uploads",
    )
    if not files:
        _last_report()
        return
    too_big = [f.name for f in files if f.size > s.max_file_mb * 1e6]
    if too_big:
        st.warning("Too large (over the limit), left out: " + ", ".join(too_big))
    accepted = [f for f in files if f.name not in too_big]
    if not accepted or not st.button(f"Add {len(accepted)} file(s)", type="primary", icon=":material/upload:", key="ingest_go"):
        _last_report()
        return
    st.session_state["ingest_report"] = ingest_uploads(accepted)
    _last_report()


def ingest_uploads(files: list[Any]) -> dict[str, Any]:
    """Save uploads under sanitised names in a temp folder, ingest them with progress, report."""
    from ingest.pipeline import Progress, ingest

    s = c.settings()
    folder = Path(tempfile.mkdtemp(prefix="regiograph-upload-"))
    try:
        names: dict[str, str] = {}
        for i, f in enumerate(files):
            name = safe_name(f.name, i)
            while (folder / name).exists():
                name = f"{i}-{name}"
            (folder / name).write_bytes(f.getvalue())
            names[name] = f.name
        bar = st.progress(0.0, text="Starting…")
        status = st.status("Adding the files…", expanded=True)

        def progress(p: Progress) -> None:
            stage = {"read": "Reading", "index": "Indexing", "publish": "Publishing"}.get(p.stage, p.stage)
            frac = p.done / p.total if p.total else 1.0
            bar.progress(min(1.0, frac), text=f"{stage} {p.done}/{p.total} · {p.passages} passages · {p.elapsed_s:.0f} s")
            if p.current:
                status.write(f"{stage} **{c.escape(names.get(p.current, p.current))}**")

        report = ingest([folder], s, progress=progress)
        bar.progress(1.0, text=f"Done in {report.seconds:.1f} s")
        status.update(label=f"Done: {report.count('added') + report.count('replaced')} added, {len(report.failed)} failed", state="complete" if not report.failed else "error", expanded=False)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    c.clear_caches()
    rows = []
    for f in report.files:
        rows.append({
            "file": names.get(f.name, f.name), "status": f.status, "kind": f.kind, "language": f.lang,
            "passages": f.passages, "entities": f.entities, "reason": f.reason,
        })
    return {"rows": rows, "generation": report.generation, "seconds": report.seconds}


def _last_report() -> None:
    report = st.session_state.get("ingest_report")
    if not report:
        return
    st.subheader("Last batch")
    st.caption(f"generation {report['generation'] or '(unchanged)'} · {report['seconds']:.1f} s")
    for row in report["rows"]:
        if row["status"] == "failed":
            st.error(f"**{c.escape(row['file'])}**: {c.escape(row['reason'])}", icon=":material/error:")
    st.dataframe(report["rows"], hide_index=True)
    store = c.store()
    if store is None:
        return
    by_source = {str(d["source"]): d for d in kv.documents(store)}
    for row in report["rows"]:
        if row["status"] not in {"added", "replaced"}:
            continue
        doc = next((d for src, d in by_source.items() if src.endswith(row["file"]) or Path(src).name == safe_name(row["file"])), None)
        if doc is None:
            continue
        with st.expander(f"What was extracted from {row['file']}"):
            entities = kv.document_entities(store, str(doc["iri"]))
            if not entities:
                st.caption("No entity was recognised.")
            for kind, refs in entities.items():
                if kind in c.KIND_PAGE:
                    st.markdown(f"**{kind}s** ({len(refs)})")
                    c.entity_links(refs, kind, limit=25)
