"""Training configuration: one dataclass, loadable from a JSON file and overridable by flags."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from nlviz.jsonfile import read_json


@dataclass
class TrainConfig:
    """Everything a training run depends on; stored verbatim in the checkpoint card."""

    name: str = field(default="model", metadata={"help": "checkpoint name (files NAME.safetensors + NAME.json)"})
    arch: str = field(default="tiny_c2d", metadata={"help": "model architecture (nlviz.models.ARCHS)"})
    args: dict[str, Any] = field(
        default_factory=dict,
        metadata={"help": "model builder arguments as JSON; num_classes is filled in from the task"},
    )
    task: str = field(default="spacetime", metadata={"help": "synthetic task (nlviz.data.TASKS)"})
    task_params: dict[str, Any] = field(default_factory=dict, metadata={"help": "task parameters as JSON"})
    steps: int = field(default=600, metadata={"help": "optimizer steps"})
    batch_size: int = field(default=32, metadata={"help": "global batch (split over DDP ranks and micro-batches)"})
    micro_batches: int = field(
        default=1, metadata={"help": "gradient-accumulation micro-batches per step on each rank"}
    )
    optimizer: str = field(default="adamw", metadata={"help": "adamw | sgd"})
    lr: float = field(default=2e-3, metadata={"help": "peak learning rate"})
    weight_decay: float = field(default=0.05, metadata={"help": "weight decay (not applied to norms and biases)"})
    momentum: float = field(default=0.9, metadata={"help": "SGD momentum (Nesterov)"})
    lr_mult: dict[str, float] = field(
        default_factory=dict,
        metadata={
            "help": 'per-parameter learning-rate multipliers as JSON {glob: factor} on parameter names (first match wins), e.g. {"*.nl0.theta.*": 0.1}'
        },
    )
    warmup: int = field(default=30, metadata={"help": "linear warmup steps before the cosine decay"})
    grad_clip: float = field(default=1.0, metadata={"help": "clip the gradient norm (0 = off)"})
    seed: int = field(default=0, metadata={"help": "seed of the model init and of the training-data stream"})
    eval_seed: int = field(
        default=1, metadata={"help": "seed of the held-out clips (a different seed of the same generator)"}
    )
    eval_num: int = field(default=1000, metadata={"help": "held-out clips evaluated at the end"})
    eval_every: int = field(default=0, metadata={"help": "evaluate every N steps (0 = only at the end)"})
    save_every: int = field(default=0, metadata={"help": "save resumable state every N steps (0 = never)"})
    threads: int = field(default=0, metadata={"help": "torch threads (0 = torch's default)"})
    out: str = field(default="runs", metadata={"help": "output directory"})

    def __post_init__(self) -> None:
        if self.optimizer not in ("adamw", "sgd"):
            raise ValueError(f"optimizer={self.optimizer!r} is not supported; allowed: ['adamw', 'sgd']")
        for k in ("steps", "batch_size", "micro_batches", "eval_num"):
            if getattr(self, k) < 1:
                raise ValueError(f"{k} must be ≥ 1, got {getattr(self, k)}")
        if self.seed == self.eval_seed:
            raise ValueError(
                f"seed={self.seed} equals eval_seed={self.eval_seed}: the held-out clips would be the training clips "
                "(both come from the task's generator at that seed); give the run another seed"
            )
        if not isinstance(self.lr_mult, dict):
            raise ValueError(f"lr_mult must be a JSON object {{glob: factor}}, got {self.lr_mult!r}")
        for pattern, factor in self.lr_mult.items():
            if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not factor > 0:
                raise ValueError(f"lr_mult[{pattern!r}] must be a positive number, got {factor!r}")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown training config field(s) {unknown}; valid: {sorted(known)}")
        return cls(**d)

    @classmethod
    def from_file(cls, path: str | Path) -> TrainConfig:
        return cls.from_dict(read_json(path, missing="config file not found"))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
