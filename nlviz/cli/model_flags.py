"""The flags that name a model from code and its input, shared by ``nlviz app``, ``export`` and ``eval``, and the
``--device`` flag of every command that runs a model.

    --model my_model.py:build --weights w.pth --model-args '{"width": 16}'
    --input-spec spec.json --frames 4 --size 64 --mean 0.5 --std 0.25 --channels 3 --classes a,b,c --image
    --task spacetime --task-params '{"radius": 3}'
    --device auto|cpu|cuda|cuda:N|mps

The input spec starts from ``--input-spec`` (or the defaults) and every flag given overrides it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

#: the flags that describe a model from code (each applies to the one factory --model)
MODEL_FLAGS = ("weights", "model_args", "input_spec", "task", "task_params")
SPEC_FLAGS = ("frames", "size", "channels", "mean", "std", "classes", "video")
FACTORY_HELP = "path/to/file.py:NAME or pkg.module:NAME, NAME a callable returning an nn.Module"


def add_device_flag(p: argparse.ArgumentParser) -> None:
    """``--device`` (default ``auto``: cuda if available, else mps if available, else cpu)."""
    p.add_argument(
        "--device",
        default="auto",
        metavar="D",
        help="where models run: auto (cuda if available, else mps if available, else cpu; the default), cpu, "
        "cuda, cuda:N or mps; a device this machine lacks is an error",
    )


def add_model_flags(p: argparse.ArgumentParser, *, model_help: str, repeat: bool = False) -> None:
    """``--model`` and the flags describing a model from code (see the module docstring)."""
    if repeat:
        p.add_argument("--model", action="append", metavar="M", help=model_help)
    else:
        p.add_argument("--model", metavar="M", help=model_help)
    g = p.add_argument_group(
        "a model from code",
        f"--model {FACTORY_HELP}; these flags describe it (the input spec: --input-spec, then each flag on top)",
    )
    g.add_argument(
        "--weights",
        metavar="FILE",
        help="its weights: .safetensors, or a pickle read with torch.load(weights_only=True) (a state_dict/model/"
        "model_state wrapper and a 'module.' prefix are undone); loaded strictly. Omit to keep the factory's",
    )
    g.add_argument("--model-args", metavar="JSON", help="keyword arguments of the factory, e.g. '{\"width\": 16}'")
    g.add_argument(
        "--input-spec",
        metavar="spec.json",
        help="input spec JSON: video, frames, size, channels, mean, std, classes (a list or a text file beside it)",
    )
    g.add_argument("--frames", type=int, metavar="T", help="frames per clip (video models; default 8)")
    g.add_argument(
        "--size",
        type=int,
        metavar="S",
        help="side of the square model input: short side resized to S, then center-cropped (default: none, the source's "
        "own size; eval --data needs one, the app reads 224)",
    )
    g.add_argument("--channels", type=int, choices=(1, 3), help="input channels: 3 = RGB (default), 1 = grayscale")
    g.add_argument("--mean", metavar="M[,M,M]", help="per-channel mean of pixels in [0, 1] (default ImageNet's)")
    g.add_argument("--std", metavar="S[,S,S]", help="per-channel std of pixels in [0, 1] (default ImageNet's)")
    g.add_argument(
        "--classes", metavar="FILE|a,b,c", help="class names in logit order: a text file (one per line) or a,b,c"
    )
    kind = g.add_mutually_exclusive_group()
    kind.add_argument("--image", dest="video", action="store_false", default=None, help="it takes images (B, C, H, W)")
    kind.add_argument(
        "--video", dest="video", action="store_true", default=None, help="it takes clips (B, C, T, H, W) (default)"
    )
    g.add_argument(
        "--task",
        metavar="NAME",
        help="a synthetic task to show and evaluate it on: spacetime (video) or image; its frames and size follow "
        "the input spec, its class names name the logits when --classes is not given",
    )
    g.add_argument("--task-params", metavar="JSON", help="parameters of --task, e.g. '{\"radius\": 3}'")


def _numbers(flag: str, text: str | None) -> float | tuple[float, ...] | None:
    """``0.5`` (every channel) or ``0.485,0.456,0.406`` (one per channel)."""
    if text is None:
        return None
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
        return values[0] if len(values) == 1 else values
    except ValueError:
        raise ValueError(f"{flag} {text!r}: write one number per channel, e.g. 0.5 or 0.485,0.456,0.406") from None


def _json_object(flag: str, text: str | None) -> dict[str, Any] | None:
    from nlviz.jsonfile import parse_json

    if text is None:
        return None
    return parse_json(text, f"{flag} {text!r}", dict, hint="write an object like '{\"width\": 16}'")


def class_names(text: str) -> list[str]:
    """``--classes``: the names in a text file (one per line) or ``a,b,c``."""
    from nlviz.run.inputspec import read_class_names

    if Path(text).is_file():
        return read_class_names(text)
    if "," in text:
        return [c.strip() for c in text.split(",") if c.strip()]
    raise ValueError(f"--classes {text!r}: no such file; for names write them comma-separated (a,b,c)")


def input_spec(args: argparse.Namespace) -> Any:
    """The input spec of ``--input-spec`` with every spec flag given applied on top (None when none is given)."""
    from nlviz.run import InputSpec

    changes = {
        "video": args.video,
        "frames": args.frames,
        "size": args.size,
        "channels": args.channels,
        "mean": _numbers("--mean", args.mean),
        "std": _numbers("--std", args.std),
        "classes": class_names(args.classes) if args.classes else None,
    }
    if args.input_spec is None and all(v is None for v in changes.values()):
        return None
    base = InputSpec.load(args.input_spec) if args.input_spec else InputSpec()
    return base.override(**changes)


def _given(args: argparse.Namespace, names: tuple[str, ...]) -> list[str]:
    return [
        f"--{n.replace('_', '-')}" if n != "video" else "--image/--video" for n in names if getattr(args, n) is not None
    ]


def user_model(args: argparse.Namespace, factory: str, *, absolute: bool = False) -> Any:
    """The :class:`~nlviz.run.UserModel` the flags describe for ``factory``; ``absolute`` resolves its file paths
    (for a process started elsewhere, such as the app's), keeping the name as written."""
    from nlviz.run import UserModel, parse_factory

    task: Any = None
    if args.task is not None:
        task = {"name": args.task, "params": _json_object("--task-params", args.task_params) or {}}
    elif args.task_params is not None:
        raise ValueError("--task-params needs --task NAME (spacetime or image)")
    ref, weights = factory, args.weights
    if absolute:
        target, attr, is_file = parse_factory(factory)
        ref = f"{Path(target).resolve()}:{attr}" if is_file else factory
        weights = None if weights is None else str(Path(weights).resolve())
    return UserModel(
        ref,
        weights,
        _json_object("--model-args", args.model_args) or {},
        input_spec(args),
        task,
        factory if ref != factory else None,
    )


def model_entries(args: argparse.Namespace, models: list[str], *, absolute: bool = False) -> list[Any]:
    """``--model`` values as ViewSpec entries: zoo names and checkpoints stay strings, a factory becomes a
    :class:`~nlviz.run.UserModel` described by the flags.

    Raises:
        ValueError: model flags without a factory, or for several factories at once (use a ViewSpec for those).
    """
    from nlviz.run import is_factory

    factories = [m for m in models if is_factory(m)]
    flags = _given(args, MODEL_FLAGS + SPEC_FLAGS)
    if flags and not factories:
        why = (
            f"{', '.join(models)}: zoo names and checkpoints are described by their cards"
            if models
            else "no --model names one"
        )
        raise ValueError(f"{', '.join(flags)} describe a model from code (--model {FACTORY_HELP}); {why}")
    if flags and len(factories) > 1:
        raise ValueError(
            f"{', '.join(flags)} would describe {len(factories)} models from code at once ({', '.join(factories)}); "
            "give each its own entry in a ViewSpec file's models instead (--spec view.json)"
        )
    return [user_model(args, m, absolute=absolute) if is_factory(m) else m for m in models]
