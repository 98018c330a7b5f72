"""Training and evaluation: ``train(cfg, device=)``, ``evaluate(model, task, seed=, num=)``,
``evaluate_model(lm, data=)`` (a loaded model on its task or a class-per-folder dataset), ``TrainConfig``."""

from nlviz.train.config import TrainConfig
from nlviz.train.evaluate import evaluate, evaluate_model
from nlviz.train.loop import train

__all__ = ["TrainConfig", "evaluate", "evaluate_model", "train"]
