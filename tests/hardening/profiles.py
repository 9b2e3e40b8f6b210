"""Hypothesis settings of the hardening suite.

`default` keeps the suite fast; `ci` (HYPOTHESIS_PROFILE=ci, set by .ci/run)
runs more examples. Both are derandomized, so a run is repeatable, and keep
no example database on disk. Tests apply `FUZZ_SETTINGS` as a decorator, so
other suites keep hypothesis's own defaults.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_EXAMPLES = {"default": 25, "ci": 150}

FUZZ_SETTINGS = settings(
    max_examples=_EXAMPLES[os.environ.get("HYPOTHESIS_PROFILE", "default")],
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
