"""The domain: meeting-place taxonomy, neighbourhoods and population, analysis and map layers.

Uses :mod:`geo` for the engine; renders with folium; never imports streamlit.
"""
