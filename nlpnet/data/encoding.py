"""Class labels ↔ one-hot targets.

A classifier with k outputs is trained on one-hot targets: sample i of class c_i gets the row
e_{c_i} ∈ {0, 1}^k. Back from outputs (scores, probabilities, or one-hot rows) to labels is
the arg-max over each row, ties going to the lowest class index (NumPy's ``argmax``).

Labels are integers 0..k−1, given as a 1-D array or one column; float arrays holding whole
numbers (as read from CSV files) are accepted, anything else (2.5, −1, strings) is rejected
with a message naming the argument.
"""
from __future__ import annotations

import numpy as np

from .checks import as_float_array, check_int

__all__ = ["one_hot", "labels", "as_label_vector"]


def as_label_vector(y, name: str = "labels", n_classes: int | None = None) -> np.ndarray:
    """Integer class labels as an int64 vector, checked to lie in 0..n_classes−1."""
    arr = as_float_array(y, name)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected class labels as a 1-D array (or one column), got shape {arr.shape}; "
                         "for one-hot rows or scores use nlpnet.labels(...) first")
    if arr.size == 0:
        raise ValueError(f"{name}: is empty; give at least one label")
    frac = arr != np.round(arr)
    if np.any(frac):
        i = int(np.argmax(frac))
        raise ValueError(f"{name}: class labels must be whole numbers 0, 1, 2, ..., got {arr[i]:g} at index {i}")
    if arr.min() < 0:
        i = int(np.argmin(arr))
        raise ValueError(f"{name}: class labels must be ≥ 0, got {arr[i]:g} at index {i}")
    lab = arr.astype(np.int64)
    if n_classes is not None and lab.max() >= n_classes:
        i = int(np.argmax(lab))
        raise ValueError(f"{name}: label {lab[i]} at index {i} does not fit n_classes={n_classes} "
                         f"(labels run 0..{n_classes - 1})")
    return lab


def one_hot(labels, n_classes: int | None = None) -> np.ndarray:
    """Float64 one-hot rows ``(n, n_classes)`` for integer ``labels`` (default k = max label + 1;
    pass ``n_classes`` when a small sample may lack the highest class)."""
    if n_classes is not None:
        n_classes = check_int(n_classes, "n_classes", low=1)
    lab = as_label_vector(labels, "labels", n_classes)
    k = int(lab.max()) + 1 if n_classes is None else n_classes
    out = np.zeros((lab.size, k))
    out[np.arange(lab.size), lab] = 1.0
    return out


def labels(onehot_or_scores, name: str = "scores") -> np.ndarray:
    """Class labels (int64 vector) from one-hot rows or network outputs (arg-max of each row),
    or from labels themselves (a 1-D array or one column of whole numbers, returned checked)."""
    arr = as_float_array(onehot_or_scores, name)
    if arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] == 1):
        try:
            return as_label_vector(arr, name)
        except ValueError as err:
            raise ValueError(f"{err} (one column is read as labels; threshold a single-output classifier's "
                             "scores yourself, e.g. (scores > 0.5).astype(int))") from None
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected labels (1-D) or one row of scores per sample (n_samples, n_classes), "
                         f"got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name}: is empty; give at least one sample (one row)")
    return np.argmax(arr, axis=1).astype(np.int64)
