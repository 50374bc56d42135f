"""Fokker-Planck (Ornstein-Uhlenbeck) check of ``skflow.SlicedWassersteinFlow``.

What it measures
----------------
Target: ``V(x) = (x - b)^T A (x - b) / 2`` with ``A = Q diag(eigs) Q^T`` (``Q``
the orthogonal factor of a standard Gaussian matrix, ``eigs ~ U[0.5, 2]``) and
``b ~ U[-1, 1]^d``, drawn afresh for every seed; the stationary law is
``N(b, A^{-1})``. From ``N(0, I)`` the Wasserstein gradient flow of
``F = E[V] + E[log mu]`` is the OU process ``dX = -A (X - b) dt + sqrt(2) dW``:

    m(t) = b - exp(-A t) b,    S(t) = A^{-1} + exp(-2 A t) (I - A^{-1}).

``SlicedWassersteinFlow.fit_density`` runs ``K`` JKO steps of size ``tau`` in
sliced-Wasserstein space; the docs map them to Wasserstein time ``t = K d tau``
(exact for translations), so for each ``t`` the script uses
``tau = dt_W / d`` with ``dt_W = 0.025`` (``K = 20`` steps for ``t = 0.5``,
``K = 36`` for ``t = 0.9``) and a long run with ``dt_W = 0.2``, ``K = 30``
(``t = 6``: stationarity). Then it draws 10,000 samples, fits a Gaussian
(sample mean and covariance) and reports

* ``skflow vs OU``: symmetric KL ``KL(p||q) + KL(q||p)`` (the SUM, the
  convention of Mokrov et al. 2021, whose JKO-ICNN reaches 0.0035 / 0.0185 /
  0.0265 at ``t = 0.5`` for ``d = 2 / 6 / 12``) between that Gaussian and the
  closed form at ``t``, mean +- std over seeds;
* ``SWJKO-G vs OU``: the same for an exact sliced-Wasserstein JKO restricted to
  Gaussians (closed-form 1-D ``W_2`` per direction, 4000 fixed directions,
  L-BFGS per step, same ``tau`` and ``K``), computed here in float64. It is the
  gap between the sliced geometry itself and the Fokker-Planck equation: the
  ``K d tau`` clock is exact for the mean, but the covariance relaxes faster in
  sliced space (anisotropic modes up to ``(d + 2) / 2`` times faster near
  ``N(0, I)``);
* ``skflow vs SWJKO-G``: how far the estimator is from that ideal scheme;
* ``MC floor``: the symmetric KL between an exact Gaussian and the Gaussian
  fitted to 10,000 of its own samples (mean +- std over 20 draws): values near
  it are noise, not estimator error;
* the fit seconds (mean over seeds).

Estimator settings (see ``--n-inner-steps`` etc.): ``n_inner_steps=30``
(the default 10 Adam steps lag behind the clock at these small ``tau``),
``learning_rate=5e-3``, ``batch_size=512``, ``n_projections=100`` (defaults),
float32, ``device="cpu"``.

How to run
----------
::

    python benchmarks/bench_sliced_fokker_planck.py           # 3 seeds, ~5 min
    python benchmarks/bench_sliced_fokker_planck.py --quick   # 1 seed
    python benchmarks/bench_sliced_fokker_planck.py --dims 2 6 --seeds 5
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch
from scipy.linalg import expm

from skflow import SlicedWassersteinFlow

# Wasserstein time per JKO step: short runs (t = 0.5, 0.9) and the long run.
DT_SHORT, DT_LONG = 0.025, 0.2
TIMES = (0.5, 0.9)
LONG_STEPS = 30
N_SAMPLES = 10_000
EIG_RANGE = (0.5, 2.0)
# Symmetric KL (sum) reported for JKO-ICNN at t = 0.5 (Mokrov et al. 2021).
JKO_ICNN = {2: 0.0035, 6: 0.0185, 12: 0.0265}
N_GAUSS_DIRECTIONS = 4000
N_FLOOR_DRAWS = 20


# --------------------------------------------------------------------------
# Problem, closed form, divergences
# --------------------------------------------------------------------------


def make_problem(d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random SPD ``A`` (eigenvalues in EIG_RANGE) and shift ``b``."""
    rng = np.random.default_rng([seed, d])
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    eigs = rng.uniform(*EIG_RANGE, size=d)
    return (q * eigs) @ q.T, rng.uniform(-1.0, 1.0, size=d)


def ou_moments(a: np.ndarray, b: np.ndarray, t: float):
    """Mean and covariance of the OU flow at time ``t`` from ``N(0, I)``."""
    decay = expm(-a * t)
    a_inv = np.linalg.inv(a)
    cov = a_inv + decay @ decay @ (np.eye(len(b)) - a_inv)
    return b - decay @ b, (cov + cov.T) / 2


def kl_gauss(m0, s0, m1, s1) -> float:
    """``KL(N(m0, s0) || N(m1, s1))``."""
    s1_inv = np.linalg.inv(s1)
    diff = m1 - m0
    return 0.5 * float(
        np.trace(s1_inv @ s0)
        + diff @ s1_inv @ diff
        - len(m0)
        + np.linalg.slogdet(s1)[1]
        - np.linalg.slogdet(s0)[1]
    )


def sym_kl(m0, s0, m1, s1) -> float:
    """``KL(p||q) + KL(q||p)`` (the sum, not the average)."""
    return kl_gauss(m0, s0, m1, s1) + kl_gauss(m1, s1, m0, s0)


def gaussian_fit(x: np.ndarray):
    x = np.asarray(x, dtype=np.float64)
    return x.mean(axis=0), np.cov(x, rowvar=False)


def mc_floor(d: int, rng: np.random.Generator) -> tuple[float, float]:
    """Symmetric KL of ``N(0, I)`` vs its own N_SAMPLES-sample Gaussian fit.

    Affine invariance makes it the same for every Gaussian in dimension ``d``.
    """
    values = [
        sym_kl(
            *gaussian_fit(rng.standard_normal((N_SAMPLES, d))), np.zeros(d), np.eye(d)
        )
        for _ in range(N_FLOOR_DRAWS)
    ]
    return float(np.mean(values)), float(np.std(values))


# --------------------------------------------------------------------------
# Exact sliced-Wasserstein JKO restricted to Gaussians (float64 reference)
# --------------------------------------------------------------------------


def gaussian_sw_jko(a, b, tau, n_steps, seed):
    """``n_steps`` JKO steps in SW space over ``N(m, L L^T)``, exactly solved.

    Between Gaussians each 1-D ``W_2^2`` is ``(theta.(m - m0))^2 +
    (sqrt(theta^T S theta) - sqrt(theta^T S0 theta))^2``; ``F`` is exact:
    ``E[V] = ((m - b)^T A (m - b) + tr(A S)) / 2`` and ``E[log mu] =
    -log det S / 2 + const``.
    """
    d = len(b)
    gen = torch.Generator().manual_seed(seed)
    theta = torch.randn(d, N_GAUSS_DIRECTIONS, generator=gen, dtype=torch.float64)
    theta = theta / theta.norm(dim=0)
    a_t, b_t = torch.tensor(a), torch.tensor(b)
    mean = torch.zeros(d, dtype=torch.float64)
    chol = torch.eye(d, dtype=torch.float64)
    for _ in range(n_steps):
        mean0 = mean.clone()
        sd0 = ((chol @ chol.T @ theta) * theta).sum(0).sqrt()
        m_var = mean.clone().requires_grad_(True)
        l_var = chol.clone().requires_grad_(True)
        opt = torch.optim.LBFGS(
            [m_var, l_var],
            max_iter=200,
            tolerance_grad=1e-12,
            tolerance_change=1e-14,
            line_search_fn="strong_wolfe",
        )

        def closure(mean0=mean0, sd0=sd0, m_var=m_var, l_var=l_var, opt=opt):
            opt.zero_grad()
            lower = torch.tril(l_var)
            cov = lower @ lower.T
            sd = ((cov @ theta) * theta).sum(0).sqrt()
            sw2 = (((m_var - mean0) @ theta) ** 2 + (sd - sd0) ** 2).mean()
            diff = m_var - b_t
            energy = 0.5 * (diff @ a_t @ diff + (a_t * cov).sum())
            loss = sw2 / (2 * tau) + energy - torch.logdet(cov) / 2
            loss.backward()
            return loss

        opt.step(closure)
        mean = m_var.detach()
        chol = torch.tril(l_var.detach())
    return mean.numpy(), (chol @ chol.T).numpy()


# --------------------------------------------------------------------------
# skflow run
# --------------------------------------------------------------------------


def fit_skflow(a, b, tau, n_steps, seed, args):
    a_t = torch.tensor(a, dtype=torch.float32)
    b_t = torch.tensor(b, dtype=torch.float32)

    def log_prob(x):
        y = x - b_t
        return -0.5 * ((y @ a_t) * y).sum(dim=1)

    flow = SlicedWassersteinFlow(
        step_size=tau,
        max_iter=n_steps,
        n_inner_steps=args.n_inner_steps,
        learning_rate=args.learning_rate,
        batch_size=args.batch_size,
        n_projections=args.n_projections,
        random_state=seed,
        device="cpu",
    )
    start = time.perf_counter()
    flow.fit_density(log_prob, len(b))
    seconds = time.perf_counter() - start
    samples = flow.sample(N_SAMPLES, random_state=seed + 1)
    return gaussian_fit(samples), seconds


def run_config(d, t, tau, n_steps, seeds, args):
    rows = {"skflow": [], "gauss": [], "vs_gauss": [], "seconds": []}
    for seed in seeds:
        a, b = make_problem(d, seed)
        exact = ou_moments(a, b, t)
        (m_hat, s_hat), seconds = fit_skflow(a, b, tau, n_steps, seed, args)
        m_g, s_g = gaussian_sw_jko(a, b, tau, n_steps, seed)
        rows["skflow"].append(sym_kl(m_hat, s_hat, *exact))
        rows["gauss"].append(sym_kl(m_g, s_g, *exact))
        rows["vs_gauss"].append(sym_kl(m_hat, s_hat, m_g, s_g))
        rows["seconds"].append(seconds)
        print(
            f"  d={d:2d} t={t:<4g} seed={seed}: symKL={rows['skflow'][-1]:.4f} "
            f"({seconds:.1f} s)",
            file=sys.stderr,
            flush=True,
        )
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one seed")
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds")
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 6, 12])
    parser.add_argument("--n-inner-steps", type=int, default=30)
    parser.add_argument("--learning-rate", type=float, default=5e-3)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--n-projections", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    n_seeds = 1 if args.quick else args.seeds
    seeds = list(range(args.seed, args.seed + n_seeds))

    print(
        f"SlicedWassersteinFlow(n_inner_steps={args.n_inner_steps}, "
        f"learning_rate={args.learning_rate}, batch_size={args.batch_size}, "
        f"n_projections={args.n_projections}, float32); seeds {seeds}; "
        f"{N_SAMPLES} samples; eigs(A) ~ U{EIG_RANGE}, b ~ U[-1, 1]^d"
    )
    print(
        f"tau = dt/d with dt = {DT_SHORT} (t = 0.5, 0.9) and dt = {DT_LONG} "
        f"(t = {DT_LONG * LONG_STEPS:g}, K = {LONG_STEPS}, stationarity); "
        "t = K * d * tau"
    )
    print(
        "SymKL = KL(p||q) + KL(q||p) (sum, as in Mokrov et al. 2021) between "
        "Gaussian fits; JKO-ICNN column from that paper"
    )
    total = time.perf_counter()
    floor_rng = np.random.default_rng(args.seed)
    header = (
        f"{'d':>3} {'t':>4} {'K':>3} {'tau':>8} | {'skflow vs OU':>17} | "
        f"{'JKO-ICNN':>8} | {'SWJKO-G vs OU':>15} | {'skflow vs SWJKO-G':>17} | "
        f"{'MC floor':>15} | {'fit s':>6}"
    )
    lines = []
    for d in args.dims:
        floor = mc_floor(d, floor_rng)
        configs = [(t, round(t / DT_SHORT)) for t in TIMES]
        configs.append((DT_LONG * LONG_STEPS, LONG_STEPS))
        for t, n_steps in configs:
            tau = t / (n_steps * d)
            rows = run_config(d, t, tau, n_steps, seeds, args)
            ref = JKO_ICNN.get(d) if t == 0.5 else None

            def pm(values):
                return f"{np.mean(values):.4f} ± {np.std(values):.4f}"

            lines.append(
                f"{d:>3} {t:>4g} {n_steps:>3} {tau:>8.5f} | {pm(rows['skflow']):>17} | "
                f"{(f'{ref:.4f}' if ref else '-'):>8} | "
                f"{pm(rows['gauss']):>15} | {pm(rows['vs_gauss']):>17} | "
                f"{floor[0]:.4f} ± {floor[1]:.4f} | {np.mean(rows['seconds']):>6.1f}"
            )
    print()
    print(header)
    print("-" * len(header))
    for line in lines:
        print(line)
    print(f"\ntotal wall time: {time.perf_counter() - total:.0f} s")


if __name__ == "__main__":
    main()
