"""nlpnet: train neural networks as nonlinear programs.

    net = nlpnet.Network([1, 8, 8, 1], activation="tanh")
    prob = nlpnet.Problem(net, X, y, formulation="multiple_shooting")
    res = prob.solve("ipopt")
    res.network.predict(X_test)
"""
from .activations import Activation, get_activation
from .data import (SantaFe, Split, Standardize, abs_data, as_inputs, as_targets, class_balanced_split, digits,
                   labels, mnist, one_hot, santafe_windows, sin_x2_data, sine_data, train_test_split)
from .formulations import Formulation, MultipleShooting, PenalizedLifting, SingleShooting
from .losses import L1, L2, MSE, CrossEntropy, GroupLasso, Loss, Regularizer, column_sparsity
from .metrics import accuracy, confusion_matrix, test_err, train_err
from .network import Dense, Network
from .nlp import NLP, BlockLayout
from .problem import Problem
from .result import History, SolverOutput, Status, TrainResult
from .solvers import available_solvers
from .solvers.alm import (AlmOptions, ClassicRule, GaussNewton, IpoptInner, LevenbergMarquardt, LiuRule,
                          ThesisRule)
from .solvers.backprop import optimizers, schedules
from .solvers.backprop.options import (AdadeltaOptions, AdagradOptions, AdamLBFGSOptions, AdamOptions, EarlyStopping,
                                       GDOptions, LBFGSOptions, LMOptions, MomentumOptions, NadamOptions,
                                       RMSPropOptions, SSA1Options, SSA2Options)
from .solvers.ialam import IalamOptions
from .solvers.ipopt import IpoptOptions

__version__ = "0.1.0"

__all__ = [
    # networks, data, problems
    "Activation", "get_activation", "Dense", "Network", "Problem", "NLP", "BlockLayout",
    "Formulation", "SingleShooting", "MultipleShooting", "PenalizedLifting", "Loss", "MSE", "CrossEntropy", "Regularizer", "L1", "L2", "GroupLasso",
    "column_sparsity", "as_inputs", "as_targets", "train_test_split", "sine_data", "sin_x2_data", "abs_data",
    "SantaFe", "santafe_windows", "mnist", "digits", "Split", "class_balanced_split", "one_hot", "labels",
    "Standardize",
    # metrics
    "accuracy", "confusion_matrix", "train_err", "test_err",
    # results
    "Status", "History", "TrainResult", "SolverOutput", "available_solvers",
    # solver options
    "IpoptOptions", "AlmOptions", "IalamOptions", "LevenbergMarquardt", "GaussNewton", "IpoptInner", "ThesisRule", "ClassicRule",
    "LiuRule", "GDOptions", "MomentumOptions", "AdagradOptions", "AdadeltaOptions", "RMSPropOptions", "AdamOptions",
    "NadamOptions", "SSA1Options", "SSA2Options", "LBFGSOptions", "AdamLBFGSOptions", "LMOptions", "EarlyStopping",
    "optimizers", "schedules",
    "__version__",
]
