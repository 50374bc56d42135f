"""Differentially private fits: accounting, clipping, noise, and what the fit reads."""

import math

import numpy as np
import pytest
import torch

pytest.importorskip("opacus")

from opacus.accountants import RDPAccountant  # noqa: E402
from opacus.accountants.analysis.rdp import compute_rdp, get_privacy_spent  # noqa: E402

from skflow import (  # noqa: E402
    EntropicOTGenerator,
    GaussianMixtureSampler,
    LipschitzParticleSampler,
    ProximalMFGFlow,
    SlicedWassersteinFlow,
    TabularEncoder,
    make_generative_pipeline,
)
from skflow._dp import RDP_ORDERS, NoisyGradient, PrivacyPlan  # noqa: E402
from skflow.privacy import DifferentialPrivacy  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

BOUNDS = (-5.0, 5.0)


def _gaussian_rows(n=2000, seed=0, mean=(2.0, -1.0)):
    rng = np.random.RandomState(seed)
    return rng.normal(size=(n, 2)) * 0.7 + np.asarray(mean)


def _lipschitz(epsilon=3.0, **params):
    privacy = DifferentialPrivacy(epsilon, bounds=BOUNDS)
    defaults = dict(max_iter=30, n_critic_steps=2, batch_size=256, random_state=0)
    return LipschitzParticleSampler(privacy=privacy, **{**defaults, **params})


def _proximal(epsilon=3.0, **params):
    privacy = DifferentialPrivacy(epsilon, bounds=BOUNDS)
    defaults = dict(max_iter=30, n_critic_steps=2, batch_size=128, random_state=0)
    return ProximalMFGFlow(privacy=privacy, **{**defaults, **params})


# ------------------------------------------------------------------ accounting
@pytest.mark.parametrize("make", [_lipschitz, _proximal])
def test_epsilon_is_opacus_rdp_of_the_steps_taken(make):
    X = _gaussian_rows(1000)
    sampler = make(epsilon=2.0).fit(X)
    assert sampler.privacy_steps_ == sampler.n_iter_ * sampler.n_critic_steps
    sample_rate = sampler.batch_size / X.shape[0]
    accountant = RDPAccountant()
    accountant.history = [
        (sampler.noise_multiplier_, sample_rate, sampler.privacy_steps_)
    ]
    spent = accountant.get_epsilon(1e-5, alphas=RDP_ORDERS)
    assert sampler.epsilon_ == pytest.approx(spent, rel=1e-12)
    # At least as tight as Opacus's default orders.
    assert sampler.epsilon_ <= accountant.get_epsilon(1e-5) + 1e-12
    # The noise was calibrated for every planned step: all ran, so the spend
    # is the budget, to Opacus's calibration tolerance (0.01).
    assert 2.0 - 0.02 <= sampler.epsilon_ <= 2.0 + 1e-9
    assert sampler.delta_ == 1e-5


def test_full_batch_spend_is_the_closed_form_gaussian_composition():
    # At sampling rate 1, T Gaussian mechanisms of noise multiplier s have
    # Renyi DP T * alpha / (2 s^2) at every order alpha (Mironov, 2017).
    X = _gaussian_rows(200)
    sampler = _lipschitz(epsilon=5.0, batch_size=1024).fit(X)
    sigma, steps = sampler.noise_multiplier_, sampler.privacy_steps_
    orders = np.array(RDP_ORDERS)
    closed_form = steps * orders / (2 * sigma**2)
    np.testing.assert_allclose(
        compute_rdp(q=1.0, noise_multiplier=sigma, steps=steps, orders=orders),
        closed_form,
        rtol=1e-10,
    )
    epsilon, _ = get_privacy_spent(orders=orders, rdp=closed_form, delta=1e-5)
    assert sampler.epsilon_ == pytest.approx(epsilon, rel=1e-9)


def test_prv_accountant_spends_at_most_the_budget():
    X = _gaussian_rows(1000)
    privacy = DifferentialPrivacy(1.0, bounds=BOUNDS, accountant="prv")
    sampler = LipschitzParticleSampler(
        privacy=privacy, max_iter=20, n_critic_steps=2, batch_size=128, random_state=0
    ).fit(X)
    assert 0.9 <= sampler.epsilon_ <= 1.0 + 1e-6


def test_interrupted_or_shorter_fit_spends_less():
    plan = PrivacyPlan(DifferentialPrivacy(3.0), 1000, 100, 200)
    spent = [plan.spent(steps) for steps in (0, 50, 100, 200)]
    assert spent[0] == 0.0
    assert spent == sorted(spent)
    assert spent[-1] <= 3.0 + 1e-9


# ------------------------------------------------------- clipping and the noise
def _plan(noise_multiplier, max_grad_norm, n_rows, batch_size):
    plan = PrivacyPlan(
        DifferentialPrivacy(1.0, max_grad_norm=max_grad_norm), n_rows, batch_size, 10
    )
    plan.noise_multiplier = noise_multiplier
    return plan


def _noisy(plan, seed=0):
    return NoisyGradient(
        plan,
        torch.Generator().manual_seed(seed),
        torch.Generator().manual_seed(seed + 1),
        seed,
    )


def test_per_row_gradients_are_clipped_before_the_sum():
    rng = torch.Generator().manual_seed(0)
    weight = torch.randn(3, 4, generator=rng, dtype=torch.float64)
    bias = torch.randn(3, generator=rng, dtype=torch.float64)
    # Rows of very different sizes: some gradients far above the norm, some
    # below it.
    rows = torch.randn(16, 4, generator=rng, dtype=torch.float64)
    rows *= torch.logspace(-2, 2, 16, dtype=torch.float64)[:, None]

    def row_loss(parameters, row):
        w, b = parameters
        return torch.tanh(row @ w.t() + b).pow(2).sum()

    clip, n_rows, batch = 0.5, 64, 16
    noisy = _noisy(_plan(0.0, clip, n_rows, batch))
    got = noisy.gradient(row_loss, (weight, bias), rows)
    # By hand, one row at a time.
    expected = [torch.zeros_like(weight), torch.zeros_like(bias)]
    for row in rows:
        w = weight.clone().requires_grad_(True)
        b = bias.clone().requires_grad_(True)
        gw, gb = torch.autograd.grad(row_loss((w, b), row), (w, b))
        norm = torch.sqrt(gw.pow(2).sum() + gb.pow(2).sum())
        factor = min(1.0, clip / (float(norm) + 1e-6))
        expected[0] += factor * gw
        expected[1] += factor * gb
    expected = [e / batch for e in expected]
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e, rtol=1e-10, atol=1e-12)
    assert noisy.steps == 1


def test_one_row_moves_the_sum_by_at_most_the_clipping_norm():
    weight = torch.ones(2, 3, dtype=torch.float64)

    def row_loss(parameters, row):
        (w,) = parameters
        return (row @ w.t()).sum() * 1e3

    rows = torch.randn(10, 3, generator=torch.Generator().manual_seed(1)).double()
    noisy = _noisy(_plan(0.0, 1.0, 10, 10))
    (with_all,) = noisy.gradient(row_loss, (weight,), rows)
    (without_one,) = noisy.gradient(row_loss, (weight,), rows[1:])
    # Normalised by the public expected batch size (10), not the batch's own.
    difference = float((with_all - without_one).norm()) * 10
    assert difference == pytest.approx(1.0, rel=1e-6)


def test_noise_has_the_calibrated_spread():
    sigma, clip, n_rows, batch = 2.0, 0.7, 1000, 50
    noisy = _noisy(_plan(sigma, clip, n_rows, batch))
    parameter = torch.zeros(40_000, dtype=torch.float64)

    def row_loss(parameters, row):
        (p,) = parameters
        return 0.0 * p.sum() + 0.0 * row.sum()

    (gradient,) = noisy.gradient(row_loss, (parameter,), torch.zeros(5, 1).double())
    expected = sigma * clip / batch
    # 40,000 draws: the sample standard deviation is within 2% (6 standard
    # errors of 0.35%) and the mean within 6 standard errors of 0.
    assert float(gradient.std()) == pytest.approx(expected, rel=0.02)
    assert abs(float(gradient.mean())) < 6 * expected / math.sqrt(40_000)


def test_batches_are_poisson_samples_of_distinct_rows():
    n_rows, batch = 400, 40
    noisy = _noisy(_plan(1.0, 1.0, n_rows, batch))
    rows = torch.arange(n_rows, dtype=torch.float64)[:, None]
    sizes = []
    for _ in range(2000):
        drawn = noisy.batch(rows)
        assert torch.unique(drawn).numel() == drawn.shape[0]
        sizes.append(drawn.shape[0])
    sizes = np.asarray(sizes)
    q = batch / n_rows
    # Binomial(400, 0.1): mean 40, variance 36; 2000 draws.
    assert abs(sizes.mean() - 40) < 6 * math.sqrt(36 / 2000)
    assert sizes.var() == pytest.approx(36, rel=0.15)
    assert q == noisy.plan.sample_rate


# ------------------------------------------- nothing read outside the budget
@pytest.mark.parametrize("make", [_lipschitz, _proximal])
def test_data_enter_only_through_the_private_batches(make, monkeypatch):
    X1 = _gaussian_rows(600, seed=1)
    X2 = _gaussian_rows(600, seed=2, mean=(-1.0, 3.0)) * 1.5
    fitted = [make().fit(X) for X in (X1, X2)]
    first, second = (model.sample(50, random_state=0) for model in fitted)
    # The data do reach the model...
    assert not np.allclose(first, second)

    # ...and only through NoisyGradient.batch: when it hands out public rows
    # of the same size instead, two different datasets give the same model.
    def public_batch(self, rows):
        size = int(self.sizes.binomial(rows.shape[0], self.plan.sample_rate))
        torch.randperm(rows.shape[0], generator=self.batches, device=rows.device)
        return torch.zeros(size, rows.shape[1], dtype=rows.dtype, device=rows.device)

    monkeypatch.setattr(NoisyGradient, "batch", public_batch)
    fitted = [make().fit(X) for X in (X1, X2)]
    first, second = (model.sample(50, random_state=0) for model in fitted)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(fitted[0]._center, fitted[1]._center)
    np.testing.assert_array_equal(fitted[0]._spread, fitted[1]._spread)


def test_scaling_comes_from_the_bounds():
    X = _gaussian_rows(500)
    sampler = _lipschitz().fit(X)
    np.testing.assert_array_equal(sampler._center, [0.0, 0.0])
    np.testing.assert_allclose(sampler._spread, [10 / math.sqrt(12)] * 2)
    assert "divergence" not in sampler.history_
    assert sampler.stop_reason_ != "early_stopping"


# ----------------------------------------------------------------- quality
@pytest.mark.parametrize("make, max_iter", [(_lipschitz, 150), (_proximal, 300)])
def test_private_fit_moves_to_the_data(make, max_iter):
    # The start is N(0, I) on the bounds' scale (spread 2.9), centred at 0;
    # the data sit at (2, -1) with spread 0.7. At epsilon 10 the rows must
    # have moved there.
    X = _gaussian_rows(4000)
    sampler = make(epsilon=10.0, max_iter=max_iter).fit(X)
    rows = sampler.sample(2000, random_state=0)
    assert np.all(np.abs(rows.mean(axis=0) - [2.0, -1.0]) < 0.4)
    assert np.all(rows.std(axis=0) < 1.4)


# ------------------------------------------------------------------ refusals
@pytest.mark.parametrize(
    "cls", [SlicedWassersteinFlow, EntropicOTGenerator, GaussianMixtureSampler]
)
def test_families_that_cannot_be_private_say_so(cls):
    with pytest.raises(ValueError, match="LipschitzParticleSampler, ProximalMFGFlow"):
        cls(privacy=1.0).fit(_gaussian_rows(100))


def test_private_fit_needs_public_bounds():
    with pytest.raises(ValueError, match="public bounds"):
        LipschitzParticleSampler(privacy=1.0, max_iter=2).fit(_gaussian_rows(100))


def test_bounds_must_be_ordered():
    privacy = DifferentialPrivacy(1.0, bounds=([0, 5], [1, 5]))
    with pytest.raises(ValueError, match=r"columns \[1\]"):
        LipschitzParticleSampler(privacy=privacy, max_iter=2).fit(_gaussian_rows(100))


def test_rows_are_clipped_to_the_bounds():
    X = _gaussian_rows(300)
    X[0] = [1e6, -1e6]
    sampler = _lipschitz(max_iter=5).fit(X)
    assert np.isfinite(sampler.sample(10, random_state=0)).all()


def test_warm_start_is_refused():
    sampler = _lipschitz(max_iter=3, warm_start=True).fit(_gaussian_rows(200))
    with pytest.raises(ValueError, match="second budget"):
        sampler.fit(_gaussian_rows(200))


def test_privacy_of_a_wrong_type():
    with pytest.raises(Exception, match="privacy"):
        LipschitzParticleSampler(privacy="strong").fit(_gaussian_rows(50))
    with pytest.raises(Exception, match="epsilon"):
        LipschitzParticleSampler(privacy=DifferentialPrivacy(0.0, bounds=BOUNDS)).fit(
            _gaussian_rows(50)
        )


def test_number_is_epsilon_and_a_plain_refit_forgets_it():
    X = _gaussian_rows(300)
    sampler = LipschitzParticleSampler(
        privacy=DifferentialPrivacy(4.0, bounds=BOUNDS), max_iter=5, random_state=0
    ).fit(X)
    assert sampler.epsilon_ <= 4.0
    sampler.set_params(privacy=None).fit(X)
    assert not hasattr(sampler, "epsilon_")


def test_pipeline_refuses_an_encoder_fitted_on_the_rows():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": _gaussian_rows(200)[:, 0], "b": ["x", "y"] * 100})
    pipeline = make_generative_pipeline(
        TabularEncoder(), LipschitzParticleSampler(privacy=1.0, max_iter=2)
    )
    with pytest.raises(ValueError, match="domains"):
        pipeline.fit(frame)
    assert not hasattr(pipeline.steps[-1][1], "_input_transformers")


def test_meta_estimators_refuse_a_private_sampler():
    from skflow import AutoSampler, ClassConditionalSampler

    X = _gaussian_rows(60)
    private = LipschitzParticleSampler(privacy=1.0)
    with pytest.raises(ValueError, match="class proportions"):
        ClassConditionalSampler(private).fit(X, np.arange(60) % 2)
    with pytest.raises(ValueError, match="race"):
        AutoSampler(candidates=[private]).fit(X)
