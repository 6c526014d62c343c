"""Domain-agnostic engine: reading inputs, building the walk network, routing, coverage, export.

Nothing in this package imports streamlit or folium.
"""
