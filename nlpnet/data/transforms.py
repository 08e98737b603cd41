"""Feature standardisation fitted on training data only (the lecture's data normalisation).

For training inputs X ∈ R^{n×d}, per feature j:

    μ_j = (1/n) Σ_i X_ij,    s_j = sqrt((1/n) Σ_i (X_ij − μ_j)²)   (population std, as scikit-learn),

and ``transform(X) = (X − μ) / s``, ``inverse_transform(Z) = Z·s + μ``. A feature that is
constant on the training data (all its values equal up to rounding — MNIST's border pixels)
gets s_j = 1, so it maps to 0 instead of dividing by zero; its test values pass through
shifted by μ_j. Fit on the training part only: statistics taken over test data leak it into
training.

The transform is a small immutable value: ``Standardize.fit(X)`` returns a fitted one, and
``to_dict()``/``from_dict()`` give a plain JSON-able form, so a saved network can carry it and
``predict`` can take raw inputs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .checks import as_2d, as_float_array, as_inputs

__all__ = ["Standardize"]


@dataclass(frozen=True, eq=False)
class Standardize:
    """Per-feature (X − mean) / std; build it with ``Standardize.fit(X_train)``."""

    mean: np.ndarray | None = None
    std: np.ndarray | None = None

    def __post_init__(self):
        if (self.mean is None) != (self.std is None):
            raise ValueError("mean, std: give both (a fitted transform) or neither (use Standardize.fit(X))")
        if self.mean is None:
            return
        mean, std = as_float_array(self.mean, "mean"), as_float_array(self.std, "std")
        if mean.ndim != 1 or std.shape != mean.shape or mean.size == 0:
            raise ValueError(f"mean, std: expected two vectors of the same non-zero length, got shapes "
                             f"{mean.shape} and {std.shape}")
        if np.any(std <= 0):
            raise ValueError(f"std: must be > 0 everywhere, got {std[std <= 0][0]:g} at index "
                             f"{int(np.argmax(std <= 0))}")
        mean.setflags(write=False)
        std.setflags(write=False)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)

    @classmethod
    def fit(cls, X, name: str = "X") -> "Standardize":
        """The transform that standardises the columns of the training inputs ``X``."""
        X = as_2d(X, name)
        mean = X.mean(axis=0)
        std = X.std(axis=0)
        # "constant" = every value equal up to a few ulps of the column's magnitude
        scale = np.max(np.abs(X), axis=0)
        constant = np.ptp(X, axis=0) <= 8.0 * np.finfo(np.float64).eps * scale
        return cls(mean=mean, std=np.where(constant | (std == 0.0), 1.0, std))

    @property
    def fitted(self) -> bool:
        return self.mean is not None

    @property
    def n_features(self) -> int:
        self._require_fit()
        return int(self.mean.size)

    def _require_fit(self):
        if self.mean is None:
            raise ValueError("Standardize: not fitted; fit returns the fitted transform: "
                             "scaler = Standardize.fit(X_train)")

    def transform(self, X, name: str = "X") -> np.ndarray:
        """(X − mean) / std for rows ``X`` with the fitted number of features."""
        self._require_fit()
        return (as_inputs(X, self.mean.size, name) - self.mean) / self.std

    def inverse_transform(self, Z, name: str = "Z") -> np.ndarray:
        """Z · std + mean: standardised rows back to the original units."""
        self._require_fit()
        return as_inputs(Z, self.mean.size, name) * self.std + self.mean

    def to_dict(self) -> dict:
        """A plain JSON-able dict (``from_dict`` reads it back exactly: floats survive JSON's repr)."""
        self._require_fit()
        return {"type": "Standardize", "mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, d) -> "Standardize":
        """The transform stored by :meth:`to_dict`."""
        if not isinstance(d, dict):
            raise TypeError(f"d: expected the dict written by Standardize.to_dict(), got {type(d).__name__}")
        if d.get("type") != "Standardize" or set(d) != {"type", "mean", "std"}:
            raise ValueError(f"d: not a Standardize dict (expected the keys 'type', 'mean', 'std' with "
                             f"type 'Standardize'), got keys {sorted(d)}")
        return cls(mean=d["mean"], std=d["std"])

    def __repr__(self) -> str:
        return "Standardize(unfitted)" if self.mean is None else f"Standardize(n_features={self.mean.size})"
