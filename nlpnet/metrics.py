"""Classification metrics: accuracy, confusion matrix, and seed 002's TrainErr / TestErr.

Class arguments (``y_true``, ``y_pred``) may each be integer labels (1-D or one column),
one-hot rows, or network outputs / scores (one row per sample, one column per class); rows
become labels by arg-max (ties to the lowest class), see :func:`nlpnet.labels`.

* accuracy = (1/N) Σ_i 1[ĉ_i = c_i].
* confusion matrix C ∈ N^{k×k}: C[t, p] = number of samples of true class t predicted as p
  (rows true, columns predicted, as scikit-learn), so accuracy = trace(C) / ΣC.
* Seed 002 (slides on the IALM for leaky-ReLU networks) scores a network f by

      TrainErr = (1/N) Σ_{n=1}^{N} ‖f(x_n) − y_n‖²,
      TestErr  = (1/N) Σ_{n=N+1}^{N+N_test} ‖f(x_n) − y_n‖²   with N_test = ⌈N/5⌉,

  on one-hot targets y_n and the raw outputs f(x_n) (not the labels): the squared error summed
  over the k outputs and averaged over samples. TrainErr is exactly nlpnet's training MSE
  (``TrainResult.train_loss``) on one-hot targets. The slide divides TestErr by the number N
  of *training* samples; :func:`test_err` divides by N_test by default (a per-sample mean,
  comparable with TrainErr) and by ``n_train`` when it is given, which reproduces the slide's
  number (N_test/N = 1/5 of the per-sample mean). The authors' MATLAB code prints
  (1/(2N)) Σ ‖·‖², half of TrainErr.
"""
from __future__ import annotations

import numpy as np

from .data.checks import as_float_array, check_int
from .data.encoding import as_label_vector, labels, one_hot

__all__ = ["accuracy", "confusion_matrix", "train_err", "test_err"]


def _class_labels(y, name: str) -> tuple[np.ndarray, int | None]:
    """(labels, number of columns when ``y`` holds one row per sample and class, else None)."""
    arr = as_float_array(y, name)
    width = arr.shape[1] if arr.ndim == 2 and arr.shape[1] > 1 else None
    return labels(arr, name), width


def _pair(y_true, y_pred):
    t, wt = _class_labels(y_true, "y_true")
    p, wp = _class_labels(y_pred, "y_pred")
    if t.size != p.size:
        raise ValueError(f"y_pred: has {p.size} sample(s) but y_true has {t.size}")
    if wt is not None and wp is not None and wt != wp:
        raise ValueError(f"y_pred: has {wp} columns (classes) but y_true has {wt}")
    return t, p, wt or wp


def accuracy(y_true, y_pred) -> float:
    """Share of samples whose predicted class equals the true class (labels, one-hot or scores)."""
    t, p, _ = _pair(y_true, y_pred)
    return float(np.mean(t == p))


def confusion_matrix(y_true, y_pred, n_classes: int | None = None) -> np.ndarray:
    """int64 ``(k, k)`` counts, rows = true class, columns = predicted class.

    ``k`` = ``n_classes``, or else the number of columns of a one-hot/score argument, or else
    the largest label + 1 (pass ``n_classes`` when a small sample may lack the top classes).
    """
    t, p, width = _pair(y_true, y_pred)
    top = int(max(t.max(), p.max())) + 1
    if n_classes is None:
        k = max(top, width or 0)
    else:
        k = check_int(n_classes, "n_classes", low=1)
        if width is not None and width != k:
            raise ValueError(f"n_classes: is {k} but the class scores have {width} columns")
        if top > k:
            raise ValueError(f"n_classes: is {k} but a label {top - 1} occurs; labels must run 0..{k - 1}")
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k).astype(np.int64)


def _squared_error_sum(y_true, y_pred) -> tuple[float, int]:
    out = as_float_array(y_pred, "y_pred")
    if out.ndim == 1:
        out = out.reshape(-1, 1)
    if out.ndim != 2 or out.shape[0] == 0:
        raise ValueError(f"y_pred: expected the network outputs, one row per sample (n_samples, n_outputs), "
                         f"got shape {out.shape}")
    tgt = as_float_array(y_true, "y_true")
    if out.shape[1] > 1 and (tgt.ndim == 1 or (tgt.ndim == 2 and tgt.shape[1] == 1)):
        tgt = one_hot(as_label_vector(tgt, "y_true", out.shape[1]), out.shape[1])  # labels → one-hot targets
    elif tgt.ndim == 1:
        tgt = tgt.reshape(-1, 1)
    if tgt.shape != out.shape:
        raise ValueError(f"y_true: has shape {tgt.shape} but y_pred has {out.shape}; give one-hot targets or "
                         "labels, one row per sample")
    return float(np.sum((out - tgt) ** 2)), out.shape[0]


def train_err(y_true, y_pred) -> float:
    """Seed 002's TrainErr: (1/N) Σ_n ‖f(x_n) − y_n‖² over the N rows of the outputs ``y_pred``
    (``y_true``: one-hot targets or labels)."""
    total, n = _squared_error_sum(y_true, y_pred)
    return total / n


def test_err(y_true, y_pred, n_train: int | None = None) -> float:
    """Seed 002's TestErr: Σ_n ‖f(x_n) − y_n‖² over the test rows, divided by their number,
    or by ``n_train`` (the training-set size, as the slide prints it) when given."""
    total, n = _squared_error_sum(y_true, y_pred)
    return total / (n if n_train is None else check_int(n_train, "n_train", low=1))


test_err.__test__ = False  # a metric, not a test: keeps pytest from collecting it when imported
