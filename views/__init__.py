"""The explorer's pages (Streamlit views only: they call ``kg`` and ``search`` and render)."""
