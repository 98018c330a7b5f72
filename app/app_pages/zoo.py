"""The model zoo: every shipped checkpoint with its card, and how to add your own."""

import state
import streamlit as st

from nlviz import session

state.init()
st.header("Model zoo")
cards = session.models.zoo_models()
if not cards:
    st.info("No checkpoints found. Run `make zoo` to train them, or upload a checkpoint on the Explore page.")
    st.stop()
st.dataframe(
    [
        {
            "name": c["name"],
            "operator": c["operator"],
            "arch": c["arch"],
            "task": (c.get("task") or {}).get("name", ""),
            "top-1": c.get("metrics", {}).get("top1"),
            "params": c.get("params"),
            "card": c["card"],
        }
        for c in cards
    ],
    hide_index=True,
)
st.caption("top-1 on held-out synthetic clips (chance 0.25). Baselines (operator none) have no operator blocks.")
name = st.selectbox("card", [c["name"] for c in cards])
st.json({k: v for k, v in next(c for c in cards if c["name"] == name).items() if k != "train_config"}, expanded=False)
st.markdown(
    "Your own model: `nlviz convert FILE.pth checkpoints/NAME` (see docs/load-your-own-model.md), or "
    "upload a checkpoint in the sidebar of any page."
)
