"""What a command prints: text for people, one JSON object with --json, nothing with --quiet.

Kept free of heavy imports: the command line loads it before any subcommand runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def emit(args: argparse.Namespace, text: str, data: dict[str, object]) -> None:
    """Print a command's outcome: `data` as JSON with --json, else `text` unless --quiet."""
    if getattr(args, "json", False):
        import json

        print(json.dumps(plain(data), ensure_ascii=False, indent=2))
    elif not getattr(args, "quiet", False) and text:
        print(text)


def plain(value: object) -> object:
    """`value` as JSON types: months as `YYYY-MM`, missing numbers as null, paths as text."""
    import dataclasses
    import datetime as dt
    import math

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: plain(getattr(value, field.name))
                for field in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(plain(key)): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(item) for item in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "freqstr") and hasattr(value, "strftime"):  # a pandas Period month
        return value.strftime("%Y-%m")
    if hasattr(value, "item"):  # a numpy scalar
        return plain(value.item())
    return str(value)
