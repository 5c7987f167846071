"""Control API for moments (same conventions as control.py: JSON in and out, no access_token,
errors {error, detail} with 4xx). Registered into control.URLS when `control` is imported."""

from __future__ import annotations

from .control import URLS

RULES: list = []


def register() -> None:
    for rule in RULES:
        URLS.add(rule)
