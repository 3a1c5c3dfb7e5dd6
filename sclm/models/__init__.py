"""Models: the patch-transformer :class:`Forecaster` and its backbones; the document :class:`Tagger`."""

from sclm.models.backbones import LMBackbone, PatchBackbone, default_lm_path
from sclm.models.forecaster import (
    Forecaster,
    ForecasterConfig,
    ForecastOutput,
    forecast_loss,
    joint_mse,
    pinball,
    seasonal_scale,
)
from sclm.models.tagger import Tagger, train_wordpiece

__all__ = [
    "ForecastOutput",
    "Forecaster",
    "ForecasterConfig",
    "LMBackbone",
    "PatchBackbone",
    "Tagger",
    "default_lm_path",
    "forecast_loss",
    "joint_mse",
    "pinball",
    "seasonal_scale",
    "train_wordpiece",
]
