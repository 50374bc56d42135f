"""The shared training loop, driven with a tiny synthetic step."""

import math

import pytest
import torch

from skflow._loop import LoopOutcome, TrainingStep, first_false, run_loop


class _Quadratic(TrainingStep):
    """Gradient descent on ``w^2 / 2``, with NaN or Ctrl-C at chosen iterations.

    ``count`` is reassigned each iteration (as dual potentials are), so a
    rollback must put back its saved value.
    """

    def __init__(
        self, max_iter, *, nan_at=(), nan_always=False, interrupt_at=None, tol=None
    ):
        self.max_iter = max_iter
        self.weight = torch.tensor([1.0], requires_grad=True)
        self.optimizer = torch.optim.SGD([self.weight], lr=0.1)
        self.in_place, self.optimizers = [self.weight], [self.optimizer]
        self.count = torch.zeros(())
        self.trace = torch.empty(max_iter)
        self.nan_at, self.nan_always = set(nan_at), nan_always
        self.interrupt_at, self.tol = interrupt_at, tol
        self.runs, self.counts_at_start, self.stops = [], [], []

    def run(self, iteration):
        self.runs.append(iteration)
        self.counts_at_start.append(self.count)
        if iteration == self.interrupt_at:
            raise KeyboardInterrupt
        loss = 0.5 * self.weight.pow(2).sum()
        if iteration in self.nan_at:
            loss = loss * math.nan
            if not self.nan_always:
                self.nan_at.discard(iteration)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.count = self.count + 1
        self.trace[iteration] = loss.detach()

    def check(self, window):
        finite = (
            torch.isfinite(self.trace[window]).all() & torch.isfinite(self.weight).all()
        )
        return finite, torch.stack([self.trace[window.stop - 1], self.count])

    def first_non_finite(self, window):
        return first_false(torch.isfinite(self.trace[window]), default=0)

    def reassigned(self):
        return {"count": self.count}

    def stop(self, n_iter, values):
        self.stops.append(n_iter)
        if self.tol is not None and values[0] < self.tol:
            return "tol"
        return None


def _lr(step):
    return step.optimizer.param_groups[0]["lr"]


def test_a_clean_run_goes_to_max_iter():
    step = _Quadratic(12)
    outcome = run_loop(step, check_every=5)
    assert outcome == LoopOutcome(12, "max_iter", None, False, ())
    assert step.runs == list(range(12))
    assert step.stops == [5, 10, 12]  # the last window is short
    assert torch.isfinite(step.trace).all()


def test_rollback_reruns_the_window_and_halves_the_learning_rate():
    step = _Quadratic(15, nan_at={7})
    outcome = run_loop(step, check_every=5)
    assert outcome.n_iter == 15 and outcome.non_finite_at is None
    assert outcome.recoveries == ((7, 5),)
    assert step.runs == [*range(10), *range(5, 15)]
    assert _lr(step) == 0.05
    assert step.step_factor == 0.5
    # The reassigned tensor came back as saved at iteration 5.
    assert float(step.counts_at_start[10]) == 5.0
    assert torch.isfinite(step.trace).all() and torch.isfinite(step.weight).all()


def test_give_up_after_max_recoveries_reports_the_iteration():
    step = _Quadratic(20, nan_at={8}, nan_always=True)
    outcome = run_loop(step, check_every=5, max_recoveries=2)
    assert outcome.non_finite_at == 8
    assert outcome.recoveries == ((8, 5), (8, 5))
    assert outcome.n_iter == 10  # the failed window, left as it ran
    assert outcome.stop_reason == "max_iter" and not outcome.interrupted
    assert _lr(step) == 0.025
    assert step.runs == [*range(10), *range(5, 10), *range(5, 10)]


def test_ctrl_c_inside_a_step_keeps_the_completed_iterations():
    step = _Quadratic(20, interrupt_at=7)
    outcome = run_loop(step, check_every=5)
    assert outcome.interrupted and outcome.n_iter == 7
    assert outcome.stop_reason == "max_iter"


def test_ctrl_c_before_any_iteration_completed_is_passed_on():
    step = _Quadratic(20, interrupt_at=0)
    with pytest.raises(KeyboardInterrupt):
        run_loop(step, check_every=5)


def test_ctrl_c_in_the_callback_keeps_that_window():
    def callback(n_iter, loss, count):
        if n_iter == 10:
            raise KeyboardInterrupt

    step = _Quadratic(20)
    outcome = run_loop(step, check_every=5, callback=callback)
    assert outcome.interrupted and outcome.n_iter == 10
    assert step.stops == [5, 10]  # stop rules ran before the callback


def test_a_stop_rule_ends_the_loop_with_its_reason():
    # w_k = 0.9^k, so the loss 0.5 * w^2 falls under 0.1 at iteration 8.
    step = _Quadratic(50, tol=0.1)
    calls = []
    outcome = run_loop(
        step,
        check_every=5,
        callback=lambda *args: calls.append(args),
    )
    assert (outcome.stop_reason, outcome.n_iter) == ("tol", 10)
    assert [n for n, _, _ in calls] == [5, 10]  # the stopping window is reported


def test_callback_runs_once_per_window_with_the_reported_values():
    step = _Quadratic(12)
    calls = []
    run_loop(step, check_every=5, callback=lambda *a: calls.append(a))
    assert [n for n, _, _ in calls] == [5, 10, 12]
    for n_iter, loss, count in calls:
        assert loss == float(step.trace[n_iter - 1])
        assert count == n_iter


def test_one_host_read_per_window(monkeypatch):
    reads = []
    for name in ("tolist", "item", "__bool__", "__float__", "__int__", "numpy"):
        real = getattr(torch.Tensor, name)

        def counted(self, *args, _real=real, _name=name, **kwargs):
            reads.append(_name)
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counted)
    step = _Quadratic(23)
    run_loop(step, check_every=5, callback=lambda *a: None)
    monkeypatch.undo()
    assert reads == ["tolist"] * 5


def test_first_false():
    assert first_false(torch.tensor([True, False, False]), default=9) == 1
    assert first_false(torch.tensor([True, True]), default=9) == 9
