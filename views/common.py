"""What every page shares: settings, cached resources, links, safe HTML, maps.

Heavy resources (the store, the searcher, the region network, the operations table) are loaded
once per process with ``st.cache_resource``, keyed by data directory and generation number so
that a new ingest is picked up by the next rerun.
"""

from __future__ import annotations

import html
import json
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from ingest.passages import LIST_MARKER
from kg import views as kv
from kg.store import DataDir, GraphStore
from regiograph.errors import RegiographError
from regiograph.settings import Settings, load_settings

if TYPE_CHECKING:
    import networkx as nx

ASSETS = Path(__file__).resolve().parent / "assets"

#: Page url paths by entity kind (click-through from any entity link).
KIND_PAGE = {"Practice": "practice", "Project": "project", "Region": "region", "Organisation": "project"}


# --- settings and cached resources ----------------------------------------------------------


def settings() -> Settings:
    """The same settings as the CLI (REGIOGRAPH_DATA and friends)."""
    return load_settings()


def data_dir() -> DataDir:
    return DataDir(settings().data_dir)


def generation() -> int | None:
    return data_dir().current_generation()


@st.cache_resource(max_entries=2, show_spinner=False)
def _store(root: str, number: int) -> GraphStore:
    return DataDir(Path(root)).open_reader(number)


def store() -> GraphStore | None:
    """The current generation's store (read-only), or None before the first ingest."""
    number = generation()
    if number is None:
        return None
    return _store(str(settings().data_dir.resolve()), number)


def require_store() -> GraphStore:
    """The store, or stop the page with a message that says what to do."""
    found = store()
    if found is None:
        st.info(
            f"There is no data in `{settings().data_dir}` yet. Add documents on the **Add documents** page, "
            "or run `regiograph ingest PATH` and reload."
        )
        st.stop()
    return found


@st.cache_resource(max_entries=2, show_spinner="Loading the search index…")
def _searcher(root: str, number: int, embedder: str) -> Any:
    from search.api import load_searcher

    return load_searcher(settings())  # waits for preload()'s thread when it is loading this one


_preloaded: set[tuple[str, int, str]] = set()
_preload_lock = threading.Lock()


def preload() -> None:
    """Load the current generation's searcher (index, model, query language detector) in a background thread.

    Called at the top of every run; starts one thread per generation. The first page then finds
    the searcher loaded, or loading, instead of loading it itself after the page's imports.
    """
    number = generation()
    if number is None:
        return
    key = (str(settings().data_dir.resolve()), number, settings().embedder)
    with _preload_lock:
        if key in _preloaded:
            return
        _preloaded.add(key)
    threading.Thread(target=_load_and_warm, args=(settings(),), name="regiograph-preload", daemon=True).start()


def _load_and_warm(found_settings: Settings) -> None:
    try:
        from search.api import load_searcher

        load_searcher(found_settings).warm()
    except Exception:  # the page that needs the searcher loads it again and shows why it cannot
        pass


def searcher() -> Any | None:
    """The cached searcher of the current generation; None (with a reason shown) if unavailable."""
    number = generation()
    if number is None:
        return None
    try:
        return _searcher(str(settings().data_dir.resolve()), number, settings().embedder)
    except ImportError:
        st.info("Search is not available in this build yet (the `search.api` module is missing).")
    except RegiographError as exc:
        st.warning(f"Search is not available: {exc}")
    return None


def clear_caches() -> None:
    """Forget cached stores, searchers and derived tables (after an ingest)."""
    _searcher.clear()
    _store.clear()
    _network.clear()
    _operations.clear()


@st.cache_resource(max_entries=2, show_spinner="Building the region network…")
def _network(root: str, number: int) -> nx.Graph:
    from kg.network import region_network

    return region_network(_store(root, number))


def network() -> nx.Graph:
    number = generation()
    if number is None:
        import networkx as nx

        return nx.Graph()
    return _network(str(settings().data_dir.resolve()), number)


@st.cache_resource(max_entries=2, show_spinner="Reading the operations…")
def _operations(root: str, number: int) -> tuple[kv.Operation, ...]:
    return tuple(kv.operations(_store(root, number)))


def operations() -> tuple[kv.Operation, ...]:
    number = generation()
    if number is None:
        return ()
    return _operations(str(settings().data_dir.resolve()), number)


# --- query parameters (permalinks) ----------------------------------------------------------


def param(name: str, default: str = "") -> str:
    value = st.query_params.get(name)
    return default if value is None else str(value)


def param_list(name: str) -> list[str]:
    return [v for v in st.query_params.get_all(name) if v]


def set_params(**values: str | Sequence[str] | None) -> None:
    """Write the view's state into the URL (empty values are removed)."""
    for key, value in values.items():
        empty = value is None or value == "" or (not isinstance(value, str) and len(value) == 0)
        if empty:
            if key in st.query_params:
                del st.query_params[key]
        elif isinstance(value, str):
            if st.query_params.get(key) != value:
                st.query_params[key] = value
        elif value is not None and st.query_params.get_all(key) != list(value):
            st.query_params[key] = list(value)


def int_param(name: str) -> int | None:
    raw = param(name)
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


# --- links --------------------------------------------------------------------------------

_PAGES: dict[str, Any] = {}


def register_pages(pages: dict[str, Any]) -> None:
    """Remember the ``st.Page`` objects by url path (for links and switch_page)."""
    _PAGES.clear()
    _PAGES.update(pages)


def page(path: str) -> Any:
    return _PAGES[path]


def link(path: str, label: str, icon: str | None = None, help: str | None = None, **params: str) -> None:
    """A link to another page with its query parameters (a permalink)."""
    target = _PAGES.get(path)
    if target is None:
        st.markdown(escape(label))
        return
    st.page_link(target, label=_link_label(label), icon=icon, help=help, query_params=params or None)


def _link_label(label: str) -> str:
    # page_link renders Markdown: escape its control characters so labels show as written.
    return plain_markdown(label if len(label) <= 90 else label[:87] + "…")


def plain_markdown(text: str) -> str:
    """Text with Markdown's control characters escaped, so that Streamlit shows it as written
    (a label, a tooltip of document text: no link, image or emphasis comes from a document)."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$])", r"\\\1", text)


def entity_link(iri: str, label: str, kind: str = "", icon: str | None = None) -> None:
    """A click-through link to an entity's page (practice, project, region)."""
    path = KIND_PAGE.get(kind, "")
    if not path:
        st.markdown(f"{escape(label)}")
        return
    link(path, label, icon=icon, help=iri, iri=iri)


def entity_links(refs: Iterable[kv.Ref | kv.RegionRef], kind: str, empty: str = "—", limit: int = 60) -> None:
    """Links to several entities in a row (chips), or ``empty``."""
    items = list(refs)
    if not items:
        st.caption(empty)
        return
    with st.container(horizontal=True, gap="small"):
        for ref in items[:limit]:
            entity_link(ref.iri, ref.label, kind)
    if len(items) > limit:
        st.caption(f"… and {len(items) - limit} more")


# --- safe HTML ----------------------------------------------------------------------------


def escape(text: str) -> str:
    """HTML-escape text that goes into ``unsafe_allow_html`` markup (quotes included)."""
    return html.escape(text, quote=True)


_WORD = re.compile(r"[^\W_]+", re.UNICODE)


#: Short function words not worth highlighting, in the collection's main languages.
_FUNCTION_WORDS_TEXT = (
    "the and for with from into that this are was were has have how what which who of in on at to by an or as is it "
    "der die das und mit von für den dem des ein eine im zu auf "
    "og til med for af en et det som på i "
    "och att för med av som på en ett det till "
    "een het van voor met op te de en in "
    "les des pour avec une dans sur par du la le et"
)
_FUNCTION_WORDS = frozenset(_FUNCTION_WORDS_TEXT.split())


def query_terms(query: str) -> list[str]:
    """Words of a query worth highlighting (two letters or more, no function words), lower-cased."""
    words = {w.lower() for w in _WORD.findall(query) if len(w) >= 2}
    kept = {w for w in words if w not in _FUNCTION_WORDS} or words
    return sorted(kept, key=len, reverse=True)


_CAPITALISED = re.compile(r"[A-ZÀ-ÝÆØÅ](?:[a-zß-ÿæøå]|\s)")  # "Robbin", "A …"; not "SMEs"
_ITEM_START = re.compile(rf"(?:{LIST_MARKER}|\d{1,2}:\d{2})\s")  # a list item or an agenda time


def reflow(text: str) -> str:
    """Text for reading: lines of a hard-wrapped (PDF) paragraph joined into one.

    A line break stays where a sentence or a short line (a heading, a paragraph's last line)
    ends, before a list item or an agenda time, and after a list item when a capitalised word
    (not an acronym) follows; elsewhere the lines are joined, a word hyphenated across them
    ("tailor-" + "made") without a space. Display only: the stored passage text and its offsets
    into the source are unchanged.
    """
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines if line]
    if len(lines) < 2:
        return "\n".join(lines)
    lengths = sorted(len(line) for line in lines)
    typical = lengths[int(len(lengths) * 0.8)]
    out = [lines[0]]
    for line in lines[1:]:
        prev = out[-1]
        keep = (
            prev.endswith((".", "!", "?", ":", ";", "…", "»", "«"))
            or len(prev) < 0.6 * typical
            or _ITEM_START.match(line) is not None
            or (_ITEM_START.match(prev) is not None and _CAPITALISED.match(line) is not None)  # the item ended
        )
        if keep:
            out.append(line)
        elif prev.endswith("-") and line[:1].islower():
            out[-1] = prev + line
        else:
            out[-1] = f"{prev} {line}"
    return "\n".join(out)


def highlight(text: str, query: str, stem: int = 5) -> str:
    """Escaped HTML of ``text`` with the query's words (and words sharing their stem) in ``<mark>``.

    Matches are found on the raw text and each piece is escaped on its own, so nothing from the
    document can become markup.
    """
    return _mark(reflow(text), query, stem)


def _mark(text: str, query: str, stem: int = 5) -> str:
    """:func:`highlight` of text that is reflowed already."""
    terms = query_terms(query)
    spans: list[tuple[int, int]] = []
    if terms:
        for m in _WORD.finditer(text):
            word = m.group(0).lower()
            # a shared stem: 5 letters, or 60 % of a long term ("internationalisation" marks
            # "internationalise" and "International", not "Interreg")
            if any(word == t or (len(t) >= stem and word.startswith(t[: max(stem, round(len(t) * 0.6))])) or (len(t) >= 4 and word.startswith(t)) for t in terms):
                spans.append(m.span())
    out, last = [], 0
    for start, end in spans:
        out.append(escape(text[last:start]))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        last = end
    out.append(escape(text[last:]))
    return "".join(out)


def badge(text: str, colour: str = "blue") -> str:
    """A Streamlit Markdown badge with escaped text."""
    safe = re.sub(r"[\[\]:]", " ", text)
    return f":{colour}-badge[{safe}]"


def passage_html(text: str, query: str = "", max_chars: int | None = None, focus: tuple[int, int] | None = None) -> str:
    """A passage as escaped, highlighted HTML (shortened around the first match when long).

    ``focus``: the span of ``text`` to mark as the answer (the passage's sentence closest to
    the query, ``SearchHit.sentence``); a long passage is shortened around it instead. It marks
    a sentence where no word of a question in another language could be highlighted."""
    from search.windows import sentence_span

    flowed = reflow(text)
    span = None
    if focus is not None and 0 <= focus[0] < focus[1] <= len(text):
        span = sentence_span(flowed, text[focus[0] : focus[1]])  # the same words, reflowed
    start, end = 0, len(flowed)
    if max_chars and len(flowed) > max_chars:
        anchor = span[0] if span is not None else _first_match(flowed, query)
        start = max(0, min(anchor - max_chars // 3, len(flowed) - max_chars)) if anchor >= 0 else 0
        end = start + max_chars
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(flowed) else ""
    if span is None or max(span[0], start) >= min(span[1], end):
        return prefix + _mark(flowed[start:end], query) + escape(suffix)
    a, b = max(span[0], start), min(span[1], end)
    marked = f'{_mark(flowed[start:a], query)}<span class="rg-answer">{_mark(flowed[a:b], query)}</span>{_mark(flowed[b:end], query)}'
    return prefix + marked + escape(suffix)


def _first_match(text: str, query: str) -> int:
    lowered = text.lower()
    hits = [lowered.find(t) for t in query_terms(query)]
    hits = [h for h in hits if h >= 0]
    return min(hits) if hits else -1


def html_block(markup: str, css_class: str = "rg-passage") -> None:
    """Render already-escaped markup in a styled block."""
    st.markdown(f'<div class="{css_class}">{markup}</div>', unsafe_allow_html=True)


CSS = """
<style>
.rg-passage { white-space: pre-wrap; line-height: 1.5; padding: .5rem .75rem; border-left: 3px solid #d0d7de;
  background: rgba(127,127,127,.05); border-radius: 4px; margin-bottom: .25rem; font-size: .95rem; }
.rg-passage mark { background: #ffe58f; padding: 0 .1rem; border-radius: 2px; }
.rg-answer { background: rgba(31,111,235,.10); box-shadow: inset 0 -2px 0 rgba(31,111,235,.45); border-radius: 2px; }
.rg-target { border-left: 4px solid #1f6feb; background: rgba(31,111,235,.08); }
.rg-dim { opacity: .75; }
</style>
"""


def style() -> None:
    st.markdown(CSS, unsafe_allow_html=True)


# --- money and numbers --------------------------------------------------------------------


def money(value: Any, currency: str = "EUR") -> str:
    if value is None or value == "":
        return "—"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{number:,.0f} {currency}".replace(",", "\u202f")


# --- maps ---------------------------------------------------------------------------------


@cache
def _outline() -> tuple[list[float | None], list[float | None]]:
    """Europe's country outlines as one polyline (lon, lat lists with None breaks)."""
    path = ASSETS / "europe-outline.json"
    if not path.exists():
        return [], []
    data = json.loads(path.read_text(encoding="utf-8"))
    lons: list[float | None] = []
    lats: list[float | None] = []
    west, south, east, north = data["bbox"]
    for line in data["lines"]:
        for lon, lat in line:
            if west <= lon <= east and south <= lat <= north:
                lons.append(lon)
                lats.append(lat)
            elif lons and lons[-1] is not None:  # leave the box: break the line
                lons.append(None)
                lats.append(None)
        lons.append(None)
        lats.append(None)
    return lons, lats


@dataclass(frozen=True)
class MapPoint:
    iri: str
    label: str
    lat: float
    lon: float
    size: float = 10.0
    colour: str = "#1f6feb"
    hover: str = ""


@dataclass(frozen=True)
class MapLink:
    a: tuple[float, float]  # lat, lon
    b: tuple[float, float]
    width: float = 1.0
    hover: str = ""


def map_figure(points: Sequence[MapPoint], links: Sequence[MapLink] = (), height: int = 460, labels: bool = True) -> Any:
    """A static plotly map of Europe (outline shipped with the app, no tiles, no CDN)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    lons, lats = _outline()
    if lons:
        fig.add_trace(go.Scatter(x=lons, y=lats, mode="lines", line={"color": "#b8c0cc", "width": 0.7}, hoverinfo="skip", showlegend=False))
    for ln in links:
        fig.add_trace(
            go.Scatter(
                x=[ln.a[1], ln.b[1]], y=[ln.a[0], ln.b[0]], mode="lines",
                line={"color": "rgba(31,111,235,0.45)", "width": max(1.0, min(10.0, ln.width))},
                hoverinfo="text", text=ln.hover, showlegend=False,
            )
        )
    if points:
        fig.add_trace(
            go.Scatter(
                x=[p.lon for p in points], y=[p.lat for p in points],
                mode="markers+text" if labels else "markers",
                marker={"size": [p.size for p in points], "color": [p.colour for p in points], "line": {"width": 1, "color": "white"}},
                text=[p.label if len(p.label) <= 28 else p.label[:26] + "…" for p in points],
                textposition="top center", textfont={"size": 11},
                hovertext=[p.hover or p.label for p in points], hoverinfo="text", showlegend=False,
            )
        )
    xs = [p.lon for p in points] or [-10.0, 30.0]
    ys = [p.lat for p in points] or [36.0, 70.0]
    pad_x, pad_y = 4.0, 2.5
    x0, x1 = max(-26.0, min(xs) - pad_x), min(46.0, max(xs) + pad_x)
    y0, y1 = max(33.0, min(ys) - pad_y), min(72.0, max(ys) + pad_y)
    if x1 - x0 < 12:
        mid = (x0 + x1) / 2
        x0, x1 = mid - 6, mid + 6
    if y1 - y0 < 7:
        mid = (y0 + y1) / 2
        y0, y1 = mid - 3.5, mid + 3.5
    fig.update_layout(
        height=height, margin={"l": 0, "r": 0, "t": 0, "b": 0}, plot_bgcolor="#f5f8fc", paper_bgcolor="rgba(0,0,0,0)",
        xaxis={"visible": False, "range": [x0, x1]},
        # Degrees of longitude are shorter than degrees of latitude in Europe: ~cos(52°).
        yaxis={"visible": False, "range": [y0, y1], "scaleanchor": "x", "scaleratio": 1.6},
        dragmode="pan",
    )
    return fig


def show_figure(fig: Any, key: str | None = None) -> None:
    st.plotly_chart(fig, key=key, config={"displaylogo": False, "scrollZoom": True, "modeBarButtonsToRemove": ["toImage", "select2d", "lasso2d"]})


def run_page(body: Callable[[], None]) -> None:
    """Run a page body, turning domain errors into a message instead of a traceback."""
    try:
        body()
    except RegiographError as exc:
        st.error(str(exc))
