"""
Data on a manifold: the proximal mean-field-game flow
=====================================================

A pinwheel in 2-D, placed on a random 2-D plane inside 7-D space: every one of
the 7 columns varies, but the rows lie on a plane, a distribution with no density
in 7-D. :class:`skflow.ProximalMFGFlow` learns a flow ``dx/dt = v(x, t)`` from
noise to data; the Lipschitz critic (the Wasserstein-1 proximal) makes the
terminal divergence finite for such singular data, and the kinetic penalty (the
Wasserstein-2 proximal) makes the paths straight. We draw the trajectories in the
plane's coordinates and measure how straight they are.
"""

# %%
import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

from skflow import ProximalMFGFlow  # noqa: E402
from skflow.datasets import make_pinwheel  # noqa: E402
from skflow.metrics import energy_distance  # noqa: E402
from skflow.plotting import plot_trajectories  # noqa: E402

device = "auto"

X_plane = make_pinwheel(2000, random_state=0)[0]
# A random orthonormal 2-frame of R^7: the plane the data live on.
frame, _ = np.linalg.qr(np.random.RandomState(0).normal(size=(7, 2)))
X = X_plane @ frame.T

flow = ProximalMFGFlow(max_iter=400, device=device, random_state=0).fit(X)
X_new, paths = flow.sample(1000, random_state=0, return_trajectories=True)
print(f"trajectories: {paths.shape} (time steps + 1, rows, features)")

# %%
# How far the generated rows are from the plane, and from the pinwheel in it.
off_plane = np.linalg.norm(X_new - (X_new @ frame) @ frame.T, axis=1)
print(f"median distance to the plane: {np.median(off_plane):.3f} (data spread 1)")
X_fresh = make_pinwheel(1000, random_state=1)[0]
print(
    f"energy distance in the plane: {energy_distance(X_new @ frame, X_fresh):.4f} "
    f"(two fresh pinwheels: "
    f"{energy_distance(make_pinwheel(1000, random_state=2)[0], X_fresh):.4f})"
)

# %%
# Straight paths: path length over the distance between the ends is close to 1.
steps = np.linalg.norm(np.diff(paths, axis=0), axis=2).sum(axis=0)
chord = np.linalg.norm(paths[-1] - paths[0], axis=1)
print(f"median path length / chord: {np.median(steps / chord):.3f}")

fig = plot_trajectories(paths @ frame, n_paths=150, X_real=X_plane)
fig.axes[0].set_title("ProximalMFGFlow paths, in the data's plane")
fig.axes[0].set_xlabel("plane coordinate 1")
fig.axes[0].set_ylabel("plane coordinate 2")
fig.savefig("proximal_manifold.png", dpi=100, bbox_inches="tight")
