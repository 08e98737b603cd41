"""Options as documented dataclasses that also accept dicts and keyword arguments.

``resolve_options(IpoptOptions, options, kwargs, "ipopt")`` merges a dataclass instance or
dict with keyword overrides; unknown keys raise a ``ValueError`` listing the valid ones,
and each dataclass's ``__post_init__`` checks values before anything is built.
"""
from __future__ import annotations

import dataclasses

__all__ = ["resolve_options", "check_positive", "check_nonneg", "check_int"]


def resolve_options(cls, options=None, overrides=None, solver: str = ""):
    overrides = dict(overrides or {})
    valid = [f.name for f in dataclasses.fields(cls)]
    if options is None:
        base = {}
    elif isinstance(options, cls):
        base = {f.name: getattr(options, f.name) for f in dataclasses.fields(cls)}
    elif isinstance(options, dict):
        base = dict(options)
    else:
        raise TypeError(f"options: expected {cls.__name__} or dict for solver {solver!r}, got {type(options).__name__}")
    merged = {**base, **overrides}
    unknown = sorted(set(merged) - set(valid))
    if unknown:
        raise ValueError(f"options: unknown option(s) {', '.join(map(repr, unknown))} for solver {solver!r}; "
                         f"valid options: {', '.join(valid)}")
    return cls(**merged)


def check_positive(name: str, value, allow_none: bool = False):
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or value != value:
        raise ValueError(f"{name}: must be a number > 0, got {value!r}")


def check_nonneg(name: str, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"{name}: must be a number ≥ 0, got {value!r}")


def check_int(name: str, value, minimum: int = 0, allow_none: bool = False):
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}: must be an integer ≥ {minimum}, got {value!r}")
