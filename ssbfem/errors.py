"""Errors that reach the user as one clear line."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input: names the offending key (or file) and the reason. Exit status 2."""

    def __init__(self, key: str, reason: str):
        self.key = key
        self.reason = reason
        super().__init__(f"{key}: {reason}")


class SimulationError(RuntimeError):
    """A simulation that could not go on (solver failure). Exit status 1."""
