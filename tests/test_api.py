"""The curated public API: exactly these names, each importable, every option documented."""
from __future__ import annotations

import dataclasses

import pytest

import nlpnet
from nlpnet.options import Options, SolverOptions
from nlpnet.solvers import get_solver

PUBLIC = {
    # networks, data, problems
    "Activation", "get_activation", "Dense", "Network", "Problem", "NLP", "BlockLayout", "Formulation",
    "SingleShooting", "MultipleShooting", "PenalizedLifting", "Loss", "MSE", "CrossEntropy", "Regularizer", "L1", "L2", "GroupLasso", "column_sparsity",
    "as_inputs", "as_targets", "train_test_split", "sine_data", "sin_x2_data", "abs_data", "SantaFe",
    "santafe_windows", "mnist", "digits", "Split", "class_balanced_split", "one_hot", "labels", "Standardize",
    # metrics, results
    "accuracy", "confusion_matrix", "train_err", "test_err", "Status", "History", "TrainResult", "SolverOutput",
    "available_solvers",
    # solver options, inner solvers, rules, schedules, early stopping
    "IpoptOptions", "AlmOptions", "IalamOptions", "LevenbergMarquardt", "GaussNewton", "IpoptInner", "ThesisRule", "ClassicRule",
    "LiuRule", "GDOptions", "MomentumOptions", "AdagradOptions", "AdadeltaOptions", "RMSPropOptions", "AdamOptions",
    "NadamOptions", "SSA1Options", "SSA2Options", "LBFGSOptions", "AdamLBFGSOptions", "LMOptions", "EarlyStopping",
    "optimizers", "schedules", "__version__",
}


def test_public_names_are_exactly_the_curated_list():
    assert set(nlpnet.__all__) == PUBLIC
    assert len(nlpnet.__all__) == len(PUBLIC)           # no duplicates
    for name in PUBLIC:
        assert hasattr(nlpnet, name), name


def test_schedules_and_optimizers_are_reachable_from_the_top():
    assert callable(nlpnet.schedules.exponential) and callable(nlpnet.optimizers.adam)
    es = nlpnet.EarlyStopping(patience=3)
    assert es.patience == 3 and nlpnet.Problem.solve


@pytest.mark.parametrize("solver", sorted(nlpnet.available_solvers()))
def test_every_solver_option_is_a_documented_frozen_field(solver):
    cls = get_solver(solver).options
    assert issubclass(cls, SolverOptions)
    opts = cls()
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.max_iter = 1
    for f in dataclasses.fields(cls):
        assert f.metadata.get("doc"), f"{cls.__name__}.{f.name} has no doc"
        assert f.metadata.get("check") is not None, f"{cls.__name__}.{f.name} is not checked"


@pytest.mark.parametrize("cls", [nlpnet.EarlyStopping, nlpnet.LevenbergMarquardt, nlpnet.GaussNewton,
                                 nlpnet.IpoptInner, nlpnet.ThesisRule, nlpnet.ClassicRule, nlpnet.LiuRule])
def test_nested_option_structs_are_documented_too(cls):
    assert issubclass(cls, Options)
    for f in dataclasses.fields(cls):
        assert f.metadata.get("doc"), f"{cls.__name__}.{f.name} has no doc"


def test_alm_takes_its_inner_solver_and_rule_as_objects():
    inner = nlpnet.LevenbergMarquardt(max_iter=3, linear_solver="cg")
    opts = nlpnet.AlmOptions(inner=inner, rule=nlpnet.LiuRule(rho0=5.0))
    assert opts.inner is inner and opts.rule.rho0 == 5.0
    from nlpnet.options import resolve_options
    o = resolve_options(nlpnet.AlmOptions, {"rule": "liu", "beta": 7.0, "max_inner": 4}, {}, "alm")
    assert o.rule.rho0 == 7.0 and o.inner.max_iter == 4        # the shortcuts set the objects' own fields
    with pytest.raises(ValueError, match=r"^cg_tol: does not apply to inner='ipopt'"):
        resolve_options(nlpnet.AlmOptions, {"inner": "ipopt", "cg_tol": 1e-3}, {}, "alm")
