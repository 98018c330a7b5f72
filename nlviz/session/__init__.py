"""What an interactive front end (the Streamlit app in ``app/``) needs from the library, without any UI.

    lm = models.load("st_nl_embedded")                    # eval mode; cache it (read-only)
    data = clips.synthetic(lm, 0)                         # or clips.sample_video(lm), clips.uploaded(lm, name, bytes)
    result = results.run(lm, data)                        # forward + capture, once per (model, input)
    view = views.explore(result, "layer3.nl0", (2, 17, 14))   # a click: one exact row, no forward
    strip.click_strip(view.scene)                         # the clickable frame strip; strip.strip_point maps clicks

Modules: ``models`` (zoo, default model, safe checkpoint uploads), ``clips`` (synthetic clips with masks, the
sample video, safe media uploads), ``results`` (the forward pass and the point → query-cell map), ``views``
(Explore and BA-Transform), ``strip`` (click geometry), ``compare`` (several models/blocks + divergence),
``summary`` (per-block analysis), ``attribution`` (captum beside attention), ``exporting`` (ViewSpec + files),
``figures`` (the plotly figures of all of these), ``hover`` (what the browser needs to compute rows itself as the
pointer moves), ``showcase`` (the first view: a clip and query that show the model's point). The app reaches the
library through this package only.
A *point* is (t, y, x) in model-input pixels. Bad uploads raise :class:`UploadError` (a ValueError) whose
message names the file and the problem.
"""

from nlviz.session import (
    attribution,
    clips,
    compare,
    exporting,
    figures,
    hover,
    models,
    results,
    showcase,
    strip,
    summary,
    views,
)
from nlviz.session.clips import ClipData
from nlviz.session.models import UploadError
from nlviz.session.results import Result
from nlviz.session.views import QueryView, ViewOptions

__all__ = [
    "ClipData",
    "QueryView",
    "Result",
    "UploadError",
    "ViewOptions",
    "attribution",
    "clips",
    "compare",
    "exporting",
    "figures",
    "hover",
    "models",
    "results",
    "showcase",
    "strip",
    "summary",
    "views",
]
