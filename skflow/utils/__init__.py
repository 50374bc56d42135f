"""Tools for authors of skflow-compatible estimators.

:mod:`skflow.utils.estimator_checks` states the sampler contract as a suite of
checks that any sampler, skflow's or a third party's, can be run against.
"""
