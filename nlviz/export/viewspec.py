"""The ViewSpec: one versioned JSON file that says what to show, so a view tuned in the app can be exported
for 200 clips overnight and reproduced later.

Example (every field optional except ``version``; shown with the defaults where it has one)::

    {
      "version": 1,
      "models": ["st_nl_embedded"],             # zoo names, checkpoint paths or models from code (below)
      "blocks": "all",                          # or ["layer3.0.nl"] ("block": "..." also works)
      "queries": {"mode": "auto", "k": 4, "by": "attended"},
      "k": 20,                                  # arrows: the k highest-weighted key cells per query
      "min_fraction": 0,                        # ... leaving out those below this fraction of the strongest
      "colormap": "auto",                       # viridis for weights >= 0, rdbu for signed ones
      "normalization": "query",                 # "query" | "shared" | [vmin, vmax]
      "groups": "mean",                         # "mean" | "max" over groups/heads, or one group index
      "frames": "all",                          # key-grid frames shown: "all" | N (evenly spaced) | [t, ...]
      "formats": ["png", "json"],               # any of png, mp4, html, json, svg, pdf
      "views": ["arrows", "heatmap", "bat", "profile", "compare", "blocks"],  # what png/html show
      "input_frames": null, "input_size": null, # clip sampling; null = from the model card
      "seed": null,                             # synthetic:N inputs: data seed (null = the card's eval seed)
      "panel_size": 160,                        # displayed size (px) of one frame, at least
      "fps": null,                              # mp4 frame rate (null = the source fps, else 4)
      "plotlyjs": "shared",                     # html: "shared" (one OUT/plotly.min.js) or "inline"
      "paper_width": "double",                  # svg/pdf: "single" (3.25 in) | "double" (6.875 in) | 3.5 | "8.9cm"
      "compare_scale": "shared"                 # compare: one color scale for all rows, or "per_row"
    }

A model from code (a factory that returns an ``nn.Module``: :class:`nlviz.run.UserModel`) is an object in
``models``: ``{"model": "my_model.py:build", "weights": "w.pth", "input": {"frames": 4, "size": 64},
"args": {"width": 16}, "task": {"name": "spacetime", "params": {}}, "name": "mine"}`` (only ``model`` is
required; ``input`` may also be the path of an input-spec JSON file). A string ``"my_model.py:build"`` is the
same as ``{"model": "my_model.py:build"}``: the factory's own weights, the default input. The spec is JSON, so
the models a file names are exactly what ``nlviz export --spec`` imports: read specs you did not write.

Views (png and html): ``arrows`` (spacetime arrow plot), ``heatmap`` (per-frame overlays), ``bat`` (BA-Transform
matrices, BAT blocks only), ``profile`` (temporal profile), ``compare`` (several models/blocks + differences),
``blocks`` (distance/entropy per block). ``mp4`` is the heatmap video; ``json`` the numbers. ``svg`` and ``pdf`` are
vector figures for papers, ``paper_width`` wide: ``arrows`` (the frames with the weights overlaid, arrows and a
colorbar: :mod:`nlviz.render.paper`) and ``compare`` (:mod:`nlviz.render.paper_compare`).

Queries (``queries.mode``):

- ``explicit``: ``points`` = [[t, y, x], ...]; ``units`` = ``"pixels"`` (t a source frame index, y, x source
  pixels; the nearest sampled frame is used) or ``"cells"`` (cells of each block's query grid);
- ``grid``: an ``n``×``n`` grid of points evenly spread over model-input frame ``frame`` ("middle" or an index);
- ``auto``: the ``k`` queries that are most attended (``by="attended"``: largest total weight received as a
  key) or whose rows have the highest entropy (``by="entropy"``), chosen on the first model/block;
- ``all``: every query cell of every block.

A bad field raises :class:`SpecError` naming it (``queries.points[1]``, ``formats[0]`` ...).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from nlviz.jsonfile import read_json
from nlviz.run.usermodel import UserModel, is_factory

VERSION = 1
FORMATS = ("png", "mp4", "html", "json", "svg", "pdf")
QUERY_MODES = ("explicit", "grid", "auto", "all")
UNITS = ("pixels", "cells")
AUTO_BY = ("attended", "entropy")
NORMALIZATIONS = ("query", "shared")
FUSE = ("mean", "max")
PLOTLYJS = ("shared", "inline")
COMPARE_SCALES = ("shared", "per_row")
VIEWS = ("arrows", "heatmap", "bat", "profile", "compare", "blocks")


class SpecError(ValueError):
    """A ViewSpec field with a bad value; ``field`` is its dotted name."""

    def __init__(self, name: str, problem: str) -> None:
        self.field = name
        self.problem = problem
        super().__init__(f"ViewSpec field {name!r}: {problem}")


def _int(name: str, v: Any, low: int, high: int | None = None) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < low or (high is not None and v > high):
        rng = f"an integer in [{low}, {high}]" if high is not None else f"an integer >= {low}"
        raise SpecError(name, f"must be {rng}, got {v!r}")
    return v


def _number(name: str, v: Any) -> float:
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
        raise SpecError(name, f"must be a finite number, got {v!r}")
    return float(v)


def _choice(name: str, v: Any, allowed: tuple[str, ...]) -> str:
    if v not in allowed:
        raise SpecError(name, f"{v!r} is not allowed; allowed: {list(allowed)}")
    return v


def _known(where: str, d: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(d) - allowed)
    if unknown:
        raise SpecError(f"{where}{unknown[0]}", f"unknown field; allowed here: {sorted(allowed)}")


@dataclass(frozen=True)
class QuerySpec:
    """Which queries to show (see the module docstring)."""

    mode: str = "auto"
    points: tuple[tuple[float, float, float], ...] = ()
    units: str = "pixels"
    n: int = 3
    frame: str | int = "middle"
    k: int = 4
    by: str = "attended"

    def __post_init__(self) -> None:
        _choice("queries.mode", self.mode, QUERY_MODES)
        _choice("queries.units", self.units, UNITS)
        _choice("queries.by", self.by, AUTO_BY)
        _int("queries.n", self.n, 1, 64)
        _int("queries.k", self.k, 1)
        if self.frame != "middle":
            _int("queries.frame", self.frame, 0)
        if not isinstance(self.points, (list, tuple)):
            raise SpecError("queries.points", f"must be a list of [t, y, x], got {self.points!r}")
        pts = []
        for i, p in enumerate(self.points):
            if not isinstance(p, (list, tuple)) or len(p) != 3:
                raise SpecError(f"queries.points[{i}]", f"must be 3 numbers [t, y, x], got {p!r}")
            t, y, x = (_number(f"queries.points[{i}]", v) for v in p)
            if t != int(t) or t < 0:
                raise SpecError(f"queries.points[{i}]", f"t must be a non-negative frame index, got {p[0]!r}")
            if self.units == "cells" and (y != int(y) or x != int(x) or min(y, x) < 0):
                raise SpecError(f"queries.points[{i}]", f"cells are non-negative integers, got {list(p)!r}")
            pts.append((int(t), y, x))
        object.__setattr__(self, "points", tuple(pts))
        if self.mode == "explicit" and not pts:
            raise SpecError("queries.points", "mode 'explicit' needs at least one [t, y, x] point")

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"mode": self.mode}
        if self.mode == "explicit":
            d |= {"points": [[p[0], _num(p[1]), _num(p[2])] for p in self.points], "units": self.units}
        elif self.mode == "grid":
            d |= {"n": self.n, "frame": self.frame}
        elif self.mode == "auto":
            d |= {"k": self.k, "by": self.by}
        return d

    @classmethod
    def from_dict(cls, d: Any) -> QuerySpec:
        if isinstance(d, str) and d == "all":
            return cls(mode="all")
        if not isinstance(d, dict):
            raise SpecError("queries", f"must be an object like {{'mode': 'auto', 'k': 4}} or 'all', got {d!r}")
        _known("queries.", d, {f.name for f in fields(cls)})
        return cls(**d)


def _models(models: Any) -> tuple[str | UserModel, ...]:
    """Zoo names and checkpoint paths stay strings; factories (``file.py:NAME`` strings and objects) become
    :class:`UserModel` entries."""
    if isinstance(models, (str, dict, UserModel)):
        models = (models,)
    if not isinstance(models, (list, tuple)):
        raise SpecError("models", f"must be a list of zoo names, checkpoint paths or model objects, got {models!r}")
    out: list[str | UserModel] = []
    for i, m in enumerate(models):
        try:
            if isinstance(m, str) and m and is_factory(m):
                m = UserModel(m)
            elif isinstance(m, dict):
                m = UserModel.from_dict(m, where=f"models[{i}]")
        except ValueError as e:
            raise SpecError(f"models[{i}]", str(e).removeprefix(f"models[{i}]: ")) from None
        if not (isinstance(m, UserModel) or (isinstance(m, str) and m)):
            raise SpecError(
                f"models[{i}]",
                f"must be a zoo name, a checkpoint path or an object {{'model': 'file.py:build', ...}}, got {m!r}",
            )
        out.append(m)
    return tuple(out)


def _num(v: float) -> int | float:
    return int(v) if float(v).is_integer() else v


@dataclass(frozen=True)
class ViewSpec:
    """What to show and write (see the module docstring for every field)."""

    models: tuple[str | UserModel, ...] = ()
    blocks: str | tuple[str, ...] = "all"
    queries: QuerySpec = field(default_factory=QuerySpec)
    k: int = 20
    min_fraction: float = 0.0
    colormap: str = "auto"
    normalization: str | tuple[float, float] = "query"
    groups: str | int = "mean"
    frames: str | int | tuple[int, ...] = "all"
    formats: tuple[str, ...] = ("png", "json")
    views: tuple[str, ...] = VIEWS
    input_frames: int | None = None
    input_size: int | None = None
    seed: int | None = None
    panel_size: int = 160
    fps: float | None = None
    plotlyjs: str = "shared"
    paper_width: str | float = "double"
    compare_scale: str = "shared"
    version: int = VERSION

    def __post_init__(self) -> None:
        from nlviz.render.colormap import COLORMAPS

        set_ = object.__setattr__
        if self.version != VERSION:
            raise SpecError("version", f"this nlviz reads ViewSpec version {VERSION}, got {self.version!r}")
        set_(self, "models", _models(self.models))
        if self.blocks != "all":
            blocks = (self.blocks,) if isinstance(self.blocks, str) else self.blocks
            if not isinstance(blocks, (list, tuple)) or not blocks or not all(isinstance(b, str) for b in blocks):
                raise SpecError("blocks", f"must be 'all' or a non-empty list of block names, got {self.blocks!r}")
            set_(self, "blocks", tuple(blocks))
        if isinstance(self.queries, dict) or isinstance(self.queries, str):
            set_(self, "queries", QuerySpec.from_dict(self.queries))
        if not isinstance(self.queries, QuerySpec):
            raise SpecError("queries", f"must be an object, got {self.queries!r}")
        _int("k", self.k, 1)
        if not 0 <= _number("min_fraction", self.min_fraction) < 1:
            raise SpecError(
                "min_fraction", f"must be in [0, 1) (a fraction of the strongest weight), got {self.min_fraction!r}"
            )
        _choice("colormap", self.colormap, ("auto", *COLORMAPS))
        if isinstance(self.normalization, (list, tuple)):
            if len(self.normalization) != 2:
                raise SpecError("normalization", f"a fixed range is [vmin, vmax], got {self.normalization!r}")
            lo, hi = (_number("normalization", v) for v in self.normalization)
            if not lo < hi:
                raise SpecError("normalization", f"vmin must be below vmax, got {list(self.normalization)!r}")
            set_(self, "normalization", (lo, hi))
        else:
            _choice("normalization", self.normalization, NORMALIZATIONS)
        if isinstance(self.groups, str):
            _choice("groups", self.groups, FUSE)
        else:
            _int("groups", self.groups, 0)
        self._check_frames(set_)
        formats = (self.formats,) if isinstance(self.formats, str) else self.formats
        if not isinstance(formats, (list, tuple)) or not formats:
            raise SpecError("formats", f"must be a non-empty list of {list(FORMATS)}, got {self.formats!r}")
        for i, f in enumerate(formats):
            _choice(f"formats[{i}]", f, FORMATS)
        set_(self, "formats", tuple(dict.fromkeys(formats)))
        views = (self.views,) if isinstance(self.views, str) else self.views
        if not isinstance(views, (list, tuple)):
            raise SpecError("views", f"must be a list of {list(VIEWS)}, got {self.views!r}")
        for i, v in enumerate(views):
            _choice(f"views[{i}]", v, VIEWS)
        set_(self, "views", tuple(dict.fromkeys(views)))
        for name, low in (("input_frames", 1), ("input_size", 8), ("seed", 0)):
            if getattr(self, name) is not None:
                _int(name, getattr(self, name), low)
        _int("panel_size", self.panel_size, 16, 4096)
        if self.fps is not None and (_number("fps", self.fps) <= 0 or self.fps > 240):
            raise SpecError("fps", f"must be in (0, 240], got {self.fps!r}")
        _choice("plotlyjs", self.plotlyjs, PLOTLYJS)
        self._check_paper_width(set_)
        _choice("compare_scale", self.compare_scale, COMPARE_SCALES)

    def _check_paper_width(self, set_: Any) -> None:
        from nlviz.render.paper_size import width_inches

        w = self.paper_width
        if not isinstance(w, (str, int, float)) or isinstance(w, bool):
            raise SpecError("paper_width", f"must be a preset name or a length, got {w!r}")
        try:
            width_inches(w)
        except ValueError as e:
            raise SpecError("paper_width", str(e)) from None
        if isinstance(w, str):
            set_(self, "paper_width", w.strip().lower())

    def _check_frames(self, set_: Any) -> None:
        f = self.frames
        if f == "all":
            return
        if isinstance(f, int) and not isinstance(f, bool):
            _int("frames", f, 1)
            return
        if not isinstance(f, (list, tuple)) or not f:
            raise SpecError("frames", f"must be 'all', a count N, or a list of frame indices, got {f!r}")
        for i, t in enumerate(f):
            _int(f"frames[{i}]", t, 0)
        set_(self, "frames", tuple(sorted(set(f))))

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (lists, not tuples); ``from_dict(to_dict())`` gives an equal spec."""
        d = asdict(self)
        d["queries"] = self.queries.to_dict()
        d["models"] = [m if isinstance(m, str) else m.to_dict() for m in self.models]
        for key, v in d.items():
            if isinstance(v, tuple):
                d[key] = list(v)
        return d

    @classmethod
    def from_dict(cls, d: Any) -> ViewSpec:
        """Build and validate a spec from parsed JSON (``model``/``block`` are accepted for one name)."""
        if not isinstance(d, dict):
            raise SpecError("(root)", f"a ViewSpec is a JSON object, got {type(d).__name__}")
        d = dict(d)
        for one, many in (("model", "models"), ("block", "blocks")):
            if one in d:
                if many in d:
                    raise SpecError(one, f"give either {one!r} or {many!r}, not both")
                d[many] = d.pop(one)
        if "version" not in d:
            raise SpecError("version", f"missing; this nlviz writes and reads version {VERSION}")
        _known("", d, {f.name for f in fields(cls)})
        if "queries" in d:
            d["queries"] = QuerySpec.from_dict(d["queries"])
        return cls(**d)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def load(cls, path: str | Path) -> ViewSpec:
        p = Path(path)
        data = read_json(p, missing="ViewSpec file not found")
        try:
            return cls.from_dict(data)
        except SpecError as e:
            raise SpecError(e.field, f"{e.problem} (in {p})") from None

    def save(self, path: str | Path) -> Path:
        from nlviz.export.files import write_text

        return write_text(path, self.to_json())

    def override(self, **changes: Any) -> ViewSpec:
        """A copy with the given fields replaced (``None`` values are ignored), validated again."""
        known = {f.name for f in fields(self)}
        bad = sorted(set(changes) - known)
        if bad:
            raise SpecError(bad[0], f"unknown field; allowed: {sorted(known)}")
        return replace(self, **{k: v for k, v in changes.items() if v is not None})
