"""Training and evaluation: ``train(cfg)``, ``evaluate(model, task, seed=, num=)``, ``TrainConfig``."""

from nlviz.train.config import TrainConfig
from nlviz.train.loop import evaluate, train

__all__ = ["TrainConfig", "evaluate", "train"]
