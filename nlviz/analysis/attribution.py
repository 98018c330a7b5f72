"""Input attributions of a clip for one target class, through captum, as maps on the model-input grid.

Every method takes the model (eval mode, ``forward(x) -> logits``), one input ``x`` — (1, C, T, H, W) for
video models (``clip.to_tensor()``), (1, C, H, W) for image models — and a target class, and returns an
:class:`Attribution` whose ``map`` is (T, H, W) on the model-input grid (T = 1 for images):

- ``integrated_gradients`` (Sundararajan et al. 2017): attributions summed over channels (signed), so
  ``map.sum() ≈ logit(x) − logit(baseline)`` (completeness; captum's gap is ``delta``). ``internal_batch_size``
  bounds how many of the ``n_steps`` interpolated inputs go through the model at once.
- ``saliency`` (Simonyan et al. 2014): max over channels of |∂logit/∂x|.
- ``layer_gradcam`` (Selvaraju et al. 2017) on a named layer: the layer map (ReLU applied) lifted to the input
  grid through the cell geometry — every input pixel takes the value of the layer cell covering it.
- ``occlusion`` (Zeiler & Fergus 2014) over spacetime patches of ``window`` = (frames, rows, cols) moved by
  ``stride``: the drop of the logit when the patch (all channels) is set to ``baseline``, averaged over the
  windows covering each pixel.

Baselines are in normalized input units: 0 is the dataset-mean color. Hooks are captum's own (registered and
removed inside each captum call). captum is imported on first use.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from nlviz.analysis.grids import average


@dataclass
class Attribution:
    """``map`` (T, H, W) float32 on the model-input grid; ``raw`` what captum returned; ``delta`` IG's
    completeness gap (None for other methods)."""

    map: Tensor
    method: str
    target: int
    raw: Tensor
    delta: float | None = None


def _check(model: nn.Module, x: Tensor, target: int) -> tuple[int, int, int]:
    """Validate and return the input grid (T, H, W)."""
    if model.training:
        raise ValueError("attributions need the model in eval mode (BatchNorm would mix samples): call model.eval()")
    if x.dim() not in (4, 5) or x.shape[0] != 1:
        raise ValueError(f"x must be one input, (1, C, T, H, W) or (1, C, H, W); got shape {tuple(x.shape)}")
    with torch.no_grad():
        classes = model(x).shape[-1]
    if not isinstance(target, int) or isinstance(target, bool) or not 0 <= target < classes:
        raise ValueError(f"target={target!r} must be a class index in [0, {classes})")
    return tuple(x.shape[2:]) if x.dim() == 5 else (1, *x.shape[2:])  # type: ignore[return-value]


def _to_grid(a: Tensor) -> Tensor:
    """(1, C, T, H, W) or (1, C, H, W) → (C, T, H, W)."""
    return a[0] if a.dim() == 5 else a[0][:, None]


def integrated_gradients(
    model: nn.Module,
    x: Tensor,
    target: int,
    *,
    baseline: float = 0.0,
    n_steps: int = 32,
    internal_batch_size: int | None = None,
) -> Attribution:
    """Integrated gradients from a constant ``baseline`` input (see the module docstring)."""
    from captum.attr import IntegratedGradients

    _check(model, x, target)
    raw, delta = IntegratedGradients(model).attribute(
        x,
        baselines=baseline,
        target=target,
        n_steps=n_steps,
        internal_batch_size=internal_batch_size,
        return_convergence_delta=True,
    )
    return Attribution(_to_grid(raw).sum(0).float(), "integrated_gradients", target, raw.detach(), float(delta.sum()))


def saliency(model: nn.Module, x: Tensor, target: int) -> Attribution:
    """max_c |∂logit_target / ∂x_c| per input pixel."""
    from captum.attr import Saliency

    _check(model, x, target)
    raw = Saliency(model).attribute(x, target=target, abs=True)
    return Attribution(_to_grid(raw).amax(0).float(), "saliency", target, raw.detach())


def layer_gradcam(model: nn.Module, x: Tensor, target: int, layer: str) -> Attribution:
    """Grad-CAM on the module called ``layer`` (e.g. ``"layer3"``), lifted to the input grid."""
    from captum.attr import LayerGradCam

    size = _check(model, x, target)
    names = [n for n, _ in model.named_modules() if n]
    if layer not in names:
        raise ValueError(f"layer {layer!r} is not a module of this model; modules: {names}")
    raw = LayerGradCam(model, model.get_submodule(layer)).attribute(x, target=target, relu_attributions=True)
    cam = _to_grid(raw)[0].to(torch.float64)  # (T', H', W')
    if cam.dim() != 3 or any(g > n for g, n in zip(cam.shape, size)):
        raise ValueError(f"layer {layer!r} gives a map of shape {tuple(raw.shape)}, not a grid over the input {size}")
    up = average(cam, size, tuple(cam.shape), size)  # (T, H, W): each pixel takes its cell's value
    return Attribution(up.float(), "layer_gradcam", target, raw.detach())


def occlusion(
    model: nn.Module,
    x: Tensor,
    target: int,
    *,
    window: tuple[int, int, int] = (2, 8, 8),
    stride: tuple[int, int, int] | None = None,
    baseline: float = 0.0,
) -> Attribution:
    """Occlusion by ``window`` (frames, rows, cols) patches moved by ``stride`` (default: the window)."""
    from captum.attr import Occlusion

    size = _check(model, x, target)
    stride = tuple(stride or window)
    if len(window) != 3 or len(stride) != 3 or any(not 1 <= w <= n for w, n in zip(window, size)) or min(stride) < 1:
        raise ValueError(f"window={window} and stride={stride} must be 3 positive sizes within the input {size}")
    c = x.shape[1]
    dims = slice(0, 3) if x.dim() == 5 else slice(1, 3)
    raw = Occlusion(model).attribute(
        x, sliding_window_shapes=(c, *window[dims]), strides=(c, *stride[dims]), baselines=baseline, target=target
    )
    return Attribution(_to_grid(raw).mean(0).float(), "occlusion", target, raw.detach())
