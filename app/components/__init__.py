"""Custom Streamlit components of the app (``st.components.v2``: inline HTML, CSS and JS, no build step)."""
