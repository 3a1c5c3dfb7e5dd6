"""Forecasting models: the patch-transformer :class:`Forecaster` and its backbones."""

from sclm.models.backbones import LMBackbone, PatchBackbone, default_lm_path
from sclm.models.forecaster import (
    Forecaster,
    ForecasterConfig,
    ForecastOutput,
    forecast_loss,
    joint_mse,
    pinball,
)

__all__ = [
    "ForecastOutput",
    "Forecaster",
    "ForecasterConfig",
    "LMBackbone",
    "PatchBackbone",
    "default_lm_path",
    "forecast_loss",
    "joint_mse",
    "pinball",
]
