"""The rows of ``bench/forecast.py``: M's variants (``--m-variants``), the baselines and the goals.

``M_VARIANTS`` maps a row label to its :class:`sclm.models.ForecasterConfig` overrides plus the
bench's own keys (``BENCH_KEYS``); ``M_KEYS`` maps the command-line keys to the labels.  The
rows themselves are described in ``bench/forecast.py``'s docstring.
"""

from __future__ import annotations

from sclm.baselines import DEFAULT_QUANTILES, quantile_column

GOALS = {"pasta": "<= 0.62", "yaz": "<= 0.70"}  # issue 14; on the median (q0.5) of every row
QCOLS = [quantile_column(q) for q in DEFAULT_QUANTILES]
QUANTILE = {"loss_kind": "quantile"}  # pinball only, the point is the q0.5 output
SEASONAL = {"backbone": "patch", **QUANTILE, "loss_scale": "seasonal", "static": True}  # q-seasonal
# q-level-long: the damped level with a weekly profile as the base, twice the input days
LEVEL_LONG = {**SEASONAL, "base": "seasonal_level", "long_input": True}
# q-base-long: the weekday mean of each window as the base, twice the input days
BASE_LONG = {**SEASONAL, "base": "seasonal_mean", "long_input": True}
# q-events-long-b: the events base (weekday means + the window's ridge-fitted effects of its flags
# and shares), those covariates read by the base alone, not by the patch encoder
EVENTS_ONLY = {
    **{k: v for k, v in BASE_LONG.items() if k != "base"},
    "events_base": True,
    "encode_base_covariates": False,
}
M_VARIANTS = {  # label -> ForecasterConfig overrides (+ bench keys: static, series_id, ensemble, select)
    "M (patch)": {"backbone": "patch"},
    "M (MiniLM)": {"backbone": "lm", "lm_pretrained": True},
    "M (MiniLM, random)": {"backbone": "lm", "lm_pretrained": False},
    # the pretrained MiniLM with LoRA adapters of rank 8 on its attention query/value (lm_lora)
    "M (MiniLM, LoRA)": {"backbone": "lm", "lm_pretrained": True, "lm_lora": 8},
    "M (quantile)": {"backbone": "patch", **QUANTILE},
    "M (quantile, static)": {"backbone": "patch", **QUANTILE, "static": True},
    "M (quantile, series id)": {"backbone": "patch", **QUANTILE, "series_id": True},
    "M (quantile, static, seasonal loss)": SEASONAL,
    # + residual learning on each window's seasonal mean (``base``; ``base_weeks`` 0: all its weeks)
    "M (quantile, static, seasonal loss, base)": {
        "backbone": "patch",
        **QUANTILE,
        "loss_scale": "seasonal",
        "static": True,
        "base": "seasonal_mean",
    },
    # + twice the input days (the base then averages twice the weeks)
    "M (quantile, static, seasonal loss, base, 2x input)": BASE_LONG,
    # + the damped level with a weekly profile as the base (``base="seasonal_level"``), 2x input
    "M (quantile, static, seasonal loss, level base, 2x input)": LEVEL_LONG,
    # + the classical Theta method of each window as the base (``base="theta"``), 2x input
    "M (quantile, static, seasonal loss, theta base, 2x input)": {
        "backbone": "patch",
        **QUANTILE,
        "loss_scale": "seasonal",
        "static": True,
        "base": "theta",
        "long_input": True,
    },
    # the Theta base with its SES weight fitted to the 1..H-step in-sample errors, 2x input
    "M (quantile, static, seasonal loss, horizon-fitted theta base, 2x input)": {
        "backbone": "patch",
        **QUANTILE,
        "loss_scale": "seasonal",
        "static": True,
        "base": "theta",
        "base_fit": "horizon",
        "long_input": True,
    },
    # the same with 4x input (the Theta base reads 32 weeks)
    "M (quantile, static, seasonal loss, theta base, 4x input)": {
        "backbone": "patch",
        **QUANTILE,
        "loss_scale": "seasonal",
        "static": True,
        "base": "theta",
        "long_input": 4,
    },
    # q-base-long + the same weekday's last 4 values of each forecast day into the known-future MLP
    "M (quantile, static, seasonal loss, base, 2x input, weekday lags)": {
        "backbone": "patch",
        **QUANTILE,
        "loss_scale": "seasonal",
        "static": True,
        "base": "seasonal_mean",
        "long_input": True,
        "future_lags": 4,
    },
    # q-seasonal / q-base-long with the known-future effects proportional to the window's level
    # (``future_scale="level"``) instead of its standard deviation (RevIN's axis)
    "M (quantile, static, seasonal loss, level-scaled covariates)": {
        "backbone": "patch",
        **QUANTILE,
        "loss_scale": "seasonal",
        "static": True,
        "future_scale": "level",
    },
    "M (quantile, static, seasonal loss, base, 2x input, level-scaled covariates)": {
        "backbone": "patch",
        **QUANTILE,
        "loss_scale": "seasonal",
        "static": True,
        "base": "seasonal_mean",
        "long_input": True,
        "future_scale": "level",
    },
    # the base is the window's weekday means plus its own effects of the event covariates (flags
    # and shares: promotion, closed, holiday), a ridge regression with its penalty chosen by
    # leave-one-out (base="regression"); those covariates are also past input channels
    "M (quantile, static, seasonal loss, events base, 2x input)": {
        "backbone": "patch",
        **QUANTILE,
        "loss_scale": "seasonal",
        "static": True,
        "events_base": True,
        "long_input": True,
    },
    # the same with the event covariates read by the base alone, not by the patch encoder
    "M (quantile, static, seasonal loss, events base only, 2x input)": EVENTS_ONLY,
    # q-events-long-b + the year-ago value of each day (sclm.windows.year_ago_feature: the same
    # weekday 51-53 weeks before, scaled like the target) among the events base's covariates
    "M (quantile, static, seasonal loss, events + year-ago base only, 2x input)": {
        **EVENTS_ONLY,
        "year_ago": True,
    },
    # q-seasonal / q-base-long / q-level-long / q-events-long-b refitted on every window up to the
    # origin (the held-out latest 20 % too) for the epochs early stopping chose (train_forecaster(refit=True)); the
    # early-stopped model gives every validation figure
    "M (quantile, static, seasonal loss, refit)": {**SEASONAL, "refit": True},
    "M (quantile, static, seasonal loss, base, 2x input, refit)": {**BASE_LONG, "refit": True},
    "M (quantile, static, seasonal loss, level base, 2x input, refit)": {**LEVEL_LONG, "refit": True},
    # q-median-long-r: q-base-long-r with the weekday *median* of the window's weeks as the base
    # (ForecasterConfig(base="seasonal_median")), which a promotion spike inside the window cannot lift
    "M (quantile, static, seasonal loss, median base, 2x input, refit)": {
        **BASE_LONG,
        "base": "seasonal_median",
        "refit": True,
    },
    "M (quantile, static, seasonal loss, events base only, 2x input, refit)": {**EVENTS_ONLY, "refit": True},
    # q-events-long-b / q-base-long with the network's correction to the base shrunk by a weight
    # chosen on the validation windows (ForecasterConfig.correction, bench/forecast.py shrink_member)
    "M (quantile, static, seasonal loss, events base only, 2x input, shrunk)": {
        **EVENTS_ONLY,
        "shrink": True,
    },
    "M (quantile, static, seasonal loss, base, 2x input, shrunk)": {**BASE_LONG, "shrink": True},
    # q-base-long pretrained on the simulated corpus (sclm.models._pretrain), fine-tuned at each
    # origin from that checkpoint with --ft-lr
    "M (quantile, static, seasonal loss, base, 2x input, pretrained)": {
        "backbone": "patch",
        **QUANTILE,
        "loss_scale": "seasonal",
        "static": True,
        "base": "seasonal_mean",
        "long_input": True,
        "pretrain": True,
    },
    # at each origin the patch row of this run with the lowest validation
    # MASE (windows before the origin only), trained with --ensemble seeds (median of members)
    "M": {
        "backbone": "patch",
        **QUANTILE,
        "loss_scale": "seasonal",
        "static": True,
        "select": True,
        "ensemble": True,
    },
    # the M of the goals (GOAL_MODEL): the median of every other patch row's forecast (every seed
    # member of each: one by default, K with --seeds K), no training of its own
    "M (row ensemble)": {"backbone": "patch", **QUANTILE, "mix": True},
}
M_KEYS = dict(  # --m-variants key -> label
    zip(
        (
            "patch",
            "lm",
            "lm-random",
            "lm-lora",
            "q",
            "q-static",
            "q-id",
            "q-seasonal",
            "q-base",
            "q-base-long",
            "q-level-long",
            "q-theta-long",
            "q-thetah-long",
            "q-theta-4x",
            "q-lags-long",
            "q-seasonal-lvl",
            "q-base-long-lvl",
            "q-events-long",
            "q-events-long-b",
            "q-events-ya-b",
            "q-seasonal-r",
            "q-base-long-r",
            "q-level-long-r",
            "q-median-long-r",
            "q-events-long-br",
            "q-events-long-bs",
            "q-base-long-s",
            "q-pre",
            "m",
            "m-mix",
        ),
        M_VARIANTS,
        strict=True,
    )
)
BENCH_KEYS = (
    "static",
    "series_id",
    "ensemble",
    "select",
    "long_input",
    "pretrain",
    "mix",
    "events_base",
    "shrink",
    "year_ago",
    "refit",
)  # M_VARIANTS keys that are not ForecasterConfig fields
# Hybrid rows (--hybrids): no training of their own, the quantile-wise equal-weight mean of their
# members' forecasts at each origin (bench/forecast.py hybrid_forecast).  Reported beside M, never
# as M: a combination that contains the baselines cannot show that M beats them.
HYBRIDS = {
    "M (hybrid: M, LightGBM)": ("M", "LightGBM"),
    "M (hybrid: M, AutoETS, AutoTheta, LightGBM)": ("M", "AutoETS", "AutoTheta", "LightGBM"),
}
HYBRID_KEYS = dict(zip(("m-lgbm", "m-all"), HYBRIDS, strict=True))  # --hybrids key -> label
BASELINES = {
    "Seasonal Naive": "seasonal_naive",
    "AutoETS": "auto_ets",
    "AutoTheta": "auto_theta",
    "LightGBM": "lightgbm",
}
EXTRA_BASELINES = {"Fracast (zero-shot)": "fracast"}  # reported; not in the best-of-baselines goal
REFERENCE = "Seasonal Naive"  # relMASE is measured to it; always run
# The M of the goals (issue 14): the row ensemble of the candidate rows, adopted 2026-12-04 by a
# rule written before its figures (below the per-origin selection on the 12 validation origins of
# YAZ and pasta-brands; docs/forecast_findings.md), fixed before any test window was scored with it.
GOAL_MODEL = "M (row ensemble)"
# --m-variants goal: the rows of the M of the goals as it stands (its four candidate rows and the
# row ensemble over them), the same command on one's own file (--csv) as on YAZ and pasta-brands
GOAL_ROWS = ("q-seasonal", "q-base-long-r", "q-level-long-r", "q-events-long-b", "m-mix")
# --counts: on series whose every value up to the origin is a whole number, the M of the goals
# rounds its columns to whole numbers (sclm.counts.count_forecast) and is also reported as it was
# (UNROUNDED); every baseline but the reference gets a rounded twin row "<label> (counts)", and the
# best-baseline ratio is taken over both forms, so rounding cannot win M a comparison by itself.
COUNTS = " (counts)"
UNROUNDED = "M (row ensemble, unrounded)"
# The per-origin validation selection (key ``m``), the goals' M until then: reported beside it, its
# ratio to the best baseline as context; the row the conformal interval and the hybrids build on.
SELECTION_MODEL = "M"
