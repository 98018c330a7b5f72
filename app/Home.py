"""nlviz — home page. Thin: it only calls library functions (no torch.nn, no hooks)."""

import streamlit as st

from nlviz.io.checkpoint import zoo_cards

st.set_page_config(page_title="nlviz", layout="wide")
st.title("nlviz — what do non-local operators attend to?")
st.write(
    "Pick a model from the zoo below. The interactive pages (Explore, Compare, BA-Transform, Analysis, "
    "Attribution, Export) arrive with the app issue; this page lists the shipped checkpoints."
)
cards = zoo_cards()
if not cards:
    st.info("No checkpoints found in checkpoints/. Run `make zoo` to train them.")
else:
    st.dataframe(
        [{"name": c["name"], "operator": c.get("operator", "none"), "task": c.get("task", {}).get("name", ""),
          "top-1": c.get("metrics", {}).get("top1"), "params": c.get("params")} for c in cards],
        use_container_width=True,
    )
