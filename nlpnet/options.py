"""The options toolkit every solver uses: documented frozen dataclasses, one vocabulary.

A solver's options are a frozen, keyword-only dataclass deriving from :class:`Options`,
each field declared with :func:`option` (default, one-line doc, check). Construction
checks and normalises every field (through :mod:`nlpnet.validation`) before anything is
built, so ``AdamOptions(learning_rate=float("inf"))`` fails at once, naming the field.

``resolve_options(AdamOptions, options, kwargs, "adam")`` merges a dataclass instance or a
dict with keyword overrides, maps the class's aliases (``epochs`` and ``max_epochs`` →
``max_iter`` for back-propagation), and rejects unknown names with the list of valid ones
and the nearest match ("did you mean 'learning_rate'?").

**The shared vocabulary** (:class:`SolverOptions`, documented once in docs/solvers.md):

=============  ==========================================================================
max_iter       the solver's main iterations: IPOPT iterations, ALM outer iterations,
               back-propagation epochs, L-BFGS iterations, trainlm epochs
max_time       wall-clock limit in seconds for the whole solve, set-up included (None: none)
seed           every random choice of the solver (mini-batch order, random multipliers);
               solvers without random choices accept and ignore it
verbose        0 silent; k > 0 prints every k-th iteration (True = 1), same columns everywhere
memory_limit   bytes the solver may allocate for its set-up; a larger estimate is refused
               before anything is built (:mod:`nlpnet.solvers.common`)
blas_threads   BLAS threads during the solve (default 1: one thread is deterministic and, for
               the per-sample blocks and on a loaded 2-core machine, also the fastest)
=============  ==========================================================================
"""
from __future__ import annotations

import dataclasses
from dataclasses import MISSING, dataclass, field, fields
from typing import ClassVar

from .validation import as_bool, as_choice, as_float, as_int, as_per_layer, as_seed, did_you_mean

__all__ = ["Options", "SolverOptions", "option", "resolve_options", "integer", "real", "per_layer", "boolean",
           "choice", "verbosity", "seed_value"]


# ----------------------------------------------------------------------------- checks
def integer(minimum=None, maximum=None, allow_none=False):
    return lambda name, v: as_int(name, v, minimum, maximum, allow_none=allow_none)


def real(**kw):
    return lambda name, v: as_float(name, v, **kw)


def per_layer(**kw):
    """One number, or a tuple of one number per layer (each checked like :func:`real`)."""
    return lambda name, v: as_per_layer(name, v, **kw)


def boolean():
    return as_bool


def choice(*values):
    return lambda name, v: as_choice(name, v, values)


def verbosity():
    """0/False silent, True → 1, k → every k-th iteration."""
    def check(name, v):
        if isinstance(v, bool):
            return int(v)
        return as_int(name, v, 0)
    return check


def seed_value():
    return as_seed


def option(default=MISSING, doc: str = "", check=None, *, factory=None):
    """A documented, checked dataclass field."""
    meta = {"doc": doc, "check": check}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


# ----------------------------------------------------------------------------- base classes
@dataclass(frozen=True, kw_only=True)
class Options:
    """Base of every option struct: checks each field, then :meth:`validate` (cross-field)."""

    PREFIX: ClassVar[str] = ""             # prefix of field names in messages ("early_stopping.")
    ALIASES: ClassVar[dict] = {}           # alias → field name

    def __post_init__(self):
        for f in fields(self):
            check = f.metadata.get("check")
            if check is not None:
                object.__setattr__(self, f.name, check(self.PREFIX + f.name, getattr(self, f.name)))
        self.validate()

    def validate(self) -> None:
        """Cross-field checks of a subclass (raise ValueError naming the fields)."""

    @classmethod
    def field_docs(cls) -> dict:
        return {f.name: f.metadata.get("doc", "") for f in fields(cls)}

    @classmethod
    def preprocess(cls, values: dict, solver: str = "") -> dict:
        """Map aliases to field names (a subclass may fold shortcuts into nested options)."""
        out = {}
        for k, v in values.items():
            name = cls.ALIASES.get(k, k)
            if name in out:
                raise ValueError(f"{k}: is another name for {name!r}, which is given too; give one of them")
            out[name] = v
        return out

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, kw_only=True)
class SolverOptions(Options):
    """The options every solver understands (see the module docstring for their meaning)."""

    max_iter: int = option(1000, "main iterations (see docs/solvers.md, 'one vocabulary')", integer(0))
    max_time: float | None = option(None, "wall-clock limit in seconds, set-up included (None: none)",
                                    real(positive=True, allow_none=True))
    seed: int | None = option(0, "seed of the solver's random choices (ignored by deterministic solvers)",
                              seed_value())
    verbose: int = option(0, "print every k-th iteration (0: silent, True: every one)", verbosity())
    memory_limit: float = option(8e9, "bytes the solver may allocate for its set-up; larger estimates "
                                      "are refused before anything is built", real(positive=True))
    blas_threads: int | None = option(1, "BLAS threads during the solve, CasADi's OpenBLAS included (None: leave "
                                         "the setting alone)", integer(1, allow_none=True))


def resolve_options(cls, options=None, overrides=None, solver: str = "", argname: str = "options"):
    """An instance of ``cls`` from an instance / dict ``options`` plus keyword ``overrides``;
    ``argname`` is the argument named in messages (``"rule_options"`` for a nested struct)."""
    overrides = dict(overrides or {})
    names = [f.name for f in fields(cls)]
    if options is None:
        base = {}
    elif isinstance(options, cls):
        base = options.as_dict()
    elif isinstance(options, dict):
        base = dict(options)
    else:
        raise TypeError(f"{argname}: expected {cls.__name__} or dict for solver {solver!r}, "
                        f"got {type(options).__name__}")
    for k in list(base) + list(overrides):
        if not isinstance(k, str):
            raise TypeError(f"{argname}: option names must be strings, got {k!r}")
    merged = {**cls.preprocess(base, solver), **cls.preprocess(overrides, solver)}
    unknown = sorted(set(merged) - set(names))
    if unknown:
        hint = did_you_mean(unknown[0], names + list(cls.ALIASES))
        raise ValueError(f"{argname}: unknown option(s) {', '.join(map(repr, unknown))} for solver {solver!r}"
                         f"{hint or '.'} Valid options: {', '.join(names)}")
    try:
        return cls(**merged)
    except (TypeError, ValueError) as exc:
        # name the option as the caller typed it when it was an alias ("max_outer (max_iter): …")
        text = str(exc)
        for alias, name in cls.ALIASES.items():
            if alias in {**base, **overrides} and text.startswith(cls.PREFIX + name + ":"):
                raise type(exc)(f"{alias} ({name}){text[len(cls.PREFIX + name):]}") from None
        raise
