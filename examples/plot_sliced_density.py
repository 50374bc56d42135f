"""
Sampling an unnormalised density with a sliced-Wasserstein flow
===============================================================

:meth:`skflow.SlicedWassersteinFlow.fit_density` needs no data: it moves a
normalizing flow down the KL divergence to a density known up to a constant, as
for a Bayesian posterior. Here the target is a banana-shaped density,
``log p(x) = -x_1^2 / 2 - (x_2 - x_1^2 / 2)^2 / (2 * 0.5^2)`` up to a constant,
whose exact samples are easy to draw for comparison.
"""

# %%
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from skflow import SlicedWassersteinFlow  # noqa: E402
from skflow.metrics import energy_distance  # noqa: E402

device = "auto"
warnings.simplefilter("ignore", ConvergenceWarning)


def log_banana(x):
    """Log-density up to a constant; x is a torch tensor of shape (n, 2)."""
    return -0.5 * x[:, 0] ** 2 - 0.5 * (x[:, 1] - 0.5 * x[:, 0] ** 2) ** 2 / 0.25


flow = SlicedWassersteinFlow(max_iter=60, device=device, random_state=0)
flow.fit_density(log_banana, n_features=2)
X_flow = flow.sample(2000, random_state=0)

# %%
# Exact draws: x_1 ~ N(0, 1), then x_2 | x_1 ~ N(x_1^2 / 2, 0.5^2).
rng = np.random.RandomState(0)
x1 = rng.normal(size=2000)
X_exact = np.column_stack([x1, 0.5 * x1**2 + 0.5 * rng.normal(size=2000)])
x1 = rng.normal(size=2000)
X_exact_again = np.column_stack([x1, 0.5 * x1**2 + 0.5 * rng.normal(size=2000)])
print(f"energy distance flow vs exact: {energy_distance(X_flow, X_exact):.4f}")
print(f"exact vs exact (noise floor):  {energy_distance(X_exact_again, X_exact):.4f}")

# %%
grid = np.linspace(-3.5, 3.5, 200), np.linspace(-2, 6, 200)
g1, g2 = np.meshgrid(*grid)
density = np.exp(-0.5 * g1**2 - 0.5 * (g2 - 0.5 * g1**2) ** 2 / 0.25)
fig, ax = plt.subplots(figsize=(5.5, 5))
ax.contour(g1, g2, density, levels=6, colors="black", linewidths=0.8)
ax.scatter(*X_flow[:1000].T, s=4, alpha=0.5, color="tab:orange", label="flow samples")
ax.set_xlabel("$x_1$")
ax.set_ylabel("$x_2$")
ax.legend(loc="upper center")
fig.savefig("sliced_density.png", dpi=100, bbox_inches="tight")
