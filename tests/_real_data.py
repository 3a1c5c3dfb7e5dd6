"""The one skip rule of the tests that read the real data sets (``sclm.config.data_dir``)."""

from __future__ import annotations

import pytest

from sclm import config


def require_real_data() -> None:
    """Skip the calling test module, with the reason, when the real data folder is absent."""
    if not config.has_data():
        pytest.skip(
            "real data folder not found: set SCLM_DATA_DIR to the folder holding the data sets "
            f"(looked in {config.data_dir(must_exist=False)})",
            allow_module_level=True,
        )
