"""nlviz — the Streamlit app: the entry script. It only lays out the pages (``nlviz app`` / ``make run`` start it).

Every page calls library functions (``nlviz.session``, ``nlviz.render``); state lives in ``state.py``, cached
models and forward passes in ``resources.py``, the shared sidebar and query picker in ``widgets.py``. The pages
sit in ``app_pages/`` (not ``pages/``: Streamlit would also auto-register a ``pages/`` folder, and deep links
would then bypass this script).
"""

import streamlit as st

st.set_page_config(page_title="nlviz", page_icon=":material/center_focus_strong:", layout="wide")
pages = [
    st.Page("app_pages/explore.py", title="Explore", icon=":material/ads_click:", default=True),
    st.Page("app_pages/compare.py", title="Compare", icon=":material/compare:"),
    st.Page("app_pages/bat.py", title="BA-Transform", icon=":material/grid_on:"),
    st.Page("app_pages/analysis.py", title="Analysis", icon=":material/analytics:"),
    st.Page("app_pages/attribution.py", title="Attribution", icon=":material/search_insights:"),
    st.Page("app_pages/export.py", title="Export", icon=":material/download:"),
    st.Page("app_pages/zoo.py", title="Model zoo", icon=":material/inventory_2:"),
]
st.navigation(pages).run()
