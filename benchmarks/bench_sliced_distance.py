"""Speed of skflow's sliced-Wasserstein estimate against POT's.

skflow's JKO flows evaluate ``SW_2^2`` thousands of times per fit, in torch, on the
estimator's device, with autograd. This script times one evaluation (forward, and
forward + backward) of

* ``skflow.sliced._core.sliced_wasserstein_squared`` (sort projections, torch),
* ``ot.sliced_wasserstein_distance`` with numpy inputs (forward only),
* ``ot.sliced_wasserstein_distance`` with torch inputs (POT's torch backend),

with the same directions, on equal-size samples, and checks that the values agree
(POT returns ``SW_2``; we compare its square). Run::

    python benchmarks/bench_sliced_distance.py [--device cpu] [--repeats 5]
"""

from __future__ import annotations

import argparse
import time

import ot
import torch

from skflow.sliced._core import random_directions, sliced_wasserstein_squared

CASES = [(512, 10), (4096, 10), (4096, 50), (32768, 50), (100_000, 32)]


def best_time(function, repeats: int, device: torch.device) -> float:
    """Best wall-clock seconds of ``repeats`` calls (after one warm-up call)."""
    function()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        function()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times)


def time_case(n: int, d: int, n_projections: int, repeats: int, device) -> str:
    """One table row: timings and agreement for ``n`` rows in ``d`` dimensions."""
    generator = torch.Generator(device=device).manual_seed(0)
    x = torch.randn(n, d, generator=generator, device=device)
    y = torch.randn(n, d, generator=generator, device=device) + 0.5
    directions = random_directions(d, n_projections, generator, device, x.dtype)
    x_np, y_np, proj_np = (t.cpu().double().numpy() for t in (x, y, directions))

    def ours_forward():
        return sliced_wasserstein_squared(x, y, directions)

    def ours_backward():
        source = x.detach().requires_grad_(True)
        sliced_wasserstein_squared(source, y, directions).backward()

    def pot_numpy():
        return ot.sliced_wasserstein_distance(x_np, y_np, projections=proj_np)

    def pot_torch_backward():
        source = x.detach().requires_grad_(True)
        value = ot.sliced_wasserstein_distance(source, y, projections=directions)
        value.pow(2).backward()

    t_fwd = best_time(ours_forward, repeats, device)
    t_bwd = best_time(ours_backward, repeats, device)
    t_np = best_time(pot_numpy, repeats, device)
    t_pot = best_time(pot_torch_backward, repeats, device)
    ours = float(ours_forward())
    theirs = float(pot_numpy()) ** 2
    return (
        f"| {n} | {d} | {1e3 * t_fwd:.2f} ms | {1e3 * t_bwd:.2f} ms | "
        f"{1e3 * t_np:.2f} ms | {1e3 * t_pot:.2f} ms | "
        f"{t_pot / t_bwd:.2f} | {abs(ours - theirs) / theirs:.1e} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--projections", type=int, default=100)
    args = parser.parse_args()
    device = torch.device(args.device)
    print(
        f"torch {torch.__version__}, POT {ot.__version__}, device {device}, "
        f"threads {torch.get_num_threads()}, {args.projections} projections\n"
    )
    header = (
        "n rows", "d", "skflow fwd", "skflow fwd+bwd", "POT numpy fwd",
        "POT torch fwd+bwd", "POT/skflow (fwd+bwd)", "rel. diff",
    )  # fmt: skip
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for n, d in CASES:
        print(time_case(n, d, args.projections, args.repeats, device))
    print(
        "\nPOT/skflow: POT torch forward+backward time over skflow's (>1: skflow "
        "faster). rel. diff: |SW^2 skflow - SW^2 POT| / SW^2 POT (float32 vs "
        "float64)."
    )


if __name__ == "__main__":
    main()
