"""Classification metrics (accuracy, confusion matrix, seed 002's TrainErr/TestErr) and their plot."""
from __future__ import annotations

import numpy as np
import pytest

import nlpnet
from nlpnet.metrics import accuracy, confusion_matrix, test_err, train_err

TRUE = np.array([0, 1, 2, 2, 1, 0])
PRED = np.array([0, 2, 2, 2, 1, 1])   # 4 of 6 right


def test_accuracy_accepts_labels_one_hot_and_scores_alike():
    scores = np.eye(3)[PRED] * 2.0 - 0.5           # arg-max = PRED
    assert accuracy(TRUE, PRED) == pytest.approx(4 / 6, abs=0)
    assert accuracy(nlpnet.one_hot(TRUE), scores) == accuracy(TRUE, PRED)
    assert accuracy(TRUE.reshape(-1, 1), nlpnet.one_hot(PRED, 3)) == accuracy(TRUE, PRED)
    assert accuracy(TRUE, TRUE) == 1.0 and isinstance(accuracy(TRUE, PRED), float)


@pytest.mark.parametrize("y_true,y_pred,exc,match", [
    (TRUE, PRED[:5], ValueError, r"y_pred: has 5 sample\(s\) but y_true has 6"),
    (np.eye(3)[TRUE], np.eye(4)[PRED], ValueError, r"y_pred: has 4 columns \(classes\) but y_true has 3"),
    (TRUE, np.array([[0.2], [0.9]] * 3), ValueError, r"y_pred: class labels must be whole numbers"),
    (TRUE + 0.5, PRED, ValueError, r"y_true: class labels must be whole numbers"),
    (["a"] * 6, PRED, TypeError, r"y_true: expected a numeric array"),
    (TRUE * 1j, PRED, TypeError, r"y_true: complex values"),
])
def test_accuracy_validates_its_arguments(y_true, y_pred, exc, match):
    with pytest.raises(exc, match=match):
        accuracy(y_true, y_pred)


def test_confusion_matrix_counts_rows_true_columns_predicted():
    cm = confusion_matrix(TRUE, PRED)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 1], [0, 0, 2]])
    assert cm.dtype == np.int64 and cm.sum() == TRUE.size
    assert np.trace(cm) / cm.sum() == accuracy(TRUE, PRED)
    # k from n_classes, or from the one-hot width even when the top class never occurs
    assert confusion_matrix(TRUE, PRED, n_classes=5).shape == (5, 5)
    assert confusion_matrix(nlpnet.one_hot(TRUE, 4), PRED).shape == (4, 4)
    with pytest.raises(ValueError, match=r"n_classes: is 2 but a label 2 occurs; labels must run 0..1"):
        confusion_matrix(TRUE, PRED, n_classes=2)
    with pytest.raises(ValueError, match=r"n_classes: is 5 but the class scores have 3 columns"):
        confusion_matrix(np.eye(3)[TRUE], PRED, n_classes=5)


def test_train_err_is_seed_002s_mean_squared_norm_and_nlpnets_mse():
    rng = np.random.default_rng(0)
    out = rng.normal(size=(6, 3))
    Y = nlpnet.one_hot(TRUE, 3)
    expected = np.mean(np.sum((out - Y) ** 2, axis=1))   # (1/N) Σ ‖f(x_n) − y_n‖², summed over the outputs
    assert train_err(Y, out) == pytest.approx(expected, rel=1e-15)
    assert train_err(TRUE, out) == train_err(Y, out)       # labels are one-hot encoded to the output width
    assert test_err(Y, out) == train_err(Y, out)
    assert test_err(Y, out, n_train=30) == pytest.approx(expected * 6 / 30, rel=1e-15)  # the slide's 1/N
    # the same number as nlpnet's training MSE of a network on one-hot targets
    X = rng.uniform(-1, 1, (6, 2))
    net = nlpnet.Network([2, 4, 3], activation="tanh", seed=1)
    assert train_err(Y, net.predict(X)) == pytest.approx(nlpnet.Problem(net, X, Y).mse(net), rel=1e-12)
    with pytest.raises(ValueError, match=r"y_true: has shape \(5, 3\) but y_pred has \(6, 3\)"):
        train_err(Y[:5], out)
    with pytest.raises(ValueError, match=r"y_true: label 3 at index 0 does not fit n_classes=3"):
        train_err(np.full(6, 3), out)
    with pytest.raises(ValueError, match=r"n_train: must lie in \[1, inf\], got 0"):
        test_err(Y, out, n_train=0)
    with pytest.raises(ValueError, match=r"y_pred: expected the network outputs"):
        train_err(Y, np.zeros((6, 3, 1)))


def test_plot_confusion_matrix_labels_counts_and_colour_bar():
    from nlpnet.plotting import plot_confusion_matrix, plt
    cm = confusion_matrix(TRUE, PRED)
    ax = plot_confusion_matrix(cm, labels=["a", "b", "c"])
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["1", "1", "0", "0", "1", "1", "0", "0", "2"]     # row by row
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert len(ax.figure.axes) == 2                                   # the image and its colour bar
    plt.close(ax.figure)
    ax = plot_confusion_matrix(cm, normalize=True)
    assert [t.get_text() for t in ax.texts][:3] == ["0.50", "0.50", "0.00"]
    assert ax.images[0].get_array().sum() == pytest.approx(3.0)      # each true class's row sums to 1
    plt.close(ax.figure)
    with pytest.raises(ValueError, match=r"cm: expected a square \(k, k\) matrix"):
        plot_confusion_matrix(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"labels: gives 2 name\(s\) for 3 classes"):
        plot_confusion_matrix(cm, labels=["a", "b"])
    with pytest.raises(TypeError, match=r"normalize: expected True or False"):
        plot_confusion_matrix(cm, normalize="yes")
