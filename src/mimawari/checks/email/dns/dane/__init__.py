"""Email posture, DNS category: dane checks, one module each."""

from typing import Any

from mimawari.check import Check

CHECKS: tuple[Check[Any], ...] = ()
