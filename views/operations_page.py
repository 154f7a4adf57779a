"""The operations from the EU's lists of operations: a filterable table, CSV download."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from urllib.parse import quote

import streamlit as st

from kg import views as kv
from views import common as c

COLUMNS = ["name", "beneficiary", "country", "regions", "fund", "year", "budget_eur", "eu_eur", "currency", "source", "iri"]


def render() -> None:
    c.run_page(_body)


def _body() -> None:
    st.title("Operations")
    store = c.require_store()
    ops = c.operations()
    if not ops:
        st.info("No list of operations has been ingested yet. Add one (CSV, XLSX or JSON) on the **Add documents** page.")
        return
    countries = sorted({o.country for o in ops if o.country})
    funds = sorted({f.strip() for o in ops for f in o.fund.split(";") if f.strip()})
    region_iris = sorted({r for o in ops for r in o.region_iris})
    region_label = kv.labels(store, region_iris)
    years = sorted({o.year for o in ops if o.year})

    f1, f2, f3 = st.columns(3)
    sel_c = f1.multiselect("Country", countries, default=[x for x in c.param_list("country") if x in countries], key="ops_country")
    sel_f = f2.multiselect("Fund", funds, default=[x for x in c.param_list("fund") if x in funds], key="ops_fund")
    sel_r = f3.multiselect("Region", region_iris, default=[x for x in c.param_list("region") if x in region_label],
                           format_func=lambda x: region_label.get(x, x), key="ops_region")
    t1, t2 = st.columns([2, 1])
    text = t1.text_input("Text (name, beneficiary, region or source file)", value=c.param("text"), key="ops_text").strip()
    year_range: tuple[int, int] | None = None
    if len(years) > 1:
        lo = c.int_param("year_min") or years[0]
        hi = c.int_param("year_max") or years[-1]
        chosen = t2.slider("Start year", years[0], years[-1], (max(years[0], min(lo, years[-1])), min(years[-1], max(hi, years[0]))), key="ops_years")
        year_range = (int(chosen[0]), int(chosen[1]))
    narrowed = year_range is not None and year_range != (years[0], years[-1])
    c.set_params(
        country=sel_c, fund=sel_f, region=sel_r, text=text,
        year_min=str(year_range[0]) if narrowed and year_range else None,
        year_max=str(year_range[1]) if narrowed and year_range else None,
    )
    flt = kv.OperationFilter(
        countries=tuple(sel_c), regions=tuple(sel_r), funds=tuple(sel_f), text=text,
        year_min=year_range[0] if narrowed and year_range else None, year_max=year_range[1] if narrowed and year_range else None,
    )
    rows = kv.filter_operations(ops, flt)
    total_b = sum(o.budget_eur or 0 for o in rows)
    total_eu = sum(o.eu_eur or 0 for o in rows)
    m1, m2, m3 = st.columns(3)
    m1.metric("Operations", f"{len(rows):,}".replace(",", "\u202f"))
    m2.metric("Total budget", c.money(total_b))
    m3.metric("EU share", c.money(total_eu))
    table = [{k: v for k, v in asdict(o).items() if k in COLUMNS} for o in rows]
    for row, op in zip(table, rows, strict=True):
        row["link"] = "project?iri=" + quote(op.iri, safe="")
    st.dataframe(
        table,
        hide_index=True,
        column_order=["link", "name", "beneficiary", "country", "regions", "fund", "year", "budget_eur", "eu_eur", "currency", "source"],
        column_config={
            "link": st.column_config.LinkColumn("open", display_text="open", width="small"),
            "name": st.column_config.TextColumn("operation", width="large"),
            "year": st.column_config.NumberColumn("start", format="%d"),
            "budget_eur": st.column_config.NumberColumn("budget (EUR)", format="localized"),
            "eu_eur": st.column_config.NumberColumn("EU share (EUR)", format="localized"),
            "source": st.column_config.TextColumn("source row"),
        },
    )
    st.download_button("Download CSV", data=operations_csv(rows), file_name="regiograph-operations.csv", mime="text/csv", icon=":material/download:")


def operations_csv(rows: list[kv.Operation]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(COLUMNS)
    for o in rows:
        d = asdict(o)
        writer.writerow(["" if d[k] is None else d[k] for k in COLUMNS])
    return buf.getvalue()
