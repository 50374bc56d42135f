"""
Quick start: fit, sample, check
===============================

The whole workflow on scikit-learn's wine table (178 rows, 13 features on very
different scales): fit a :class:`skflow.LipschitzParticleSampler` on half of the
rows, draw new rows, score them against the held-out half next to a
GaussianMixture, and look at them. The sampler standardises features internally
and returns rows in the original units.
"""

# %%
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.datasets import load_wine  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.mixture import GaussianMixture  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skflow import LipschitzParticleSampler  # noqa: E402
from skflow.metrics import sample_report  # noqa: E402
from skflow.plotting import plot_history, plot_marginals, plot_pca  # noqa: E402

device = "auto"  # "cpu", "cuda", ...: the same code runs on either
warnings.simplefilter("ignore", ConvergenceWarning)

# %%
# Fit on half of the rows, generate 1000 new ones.
X, _ = load_wine(return_X_y=True)
X_train, X_test = train_test_split(X, test_size=0.5, random_state=0)
sampler = LipschitzParticleSampler(device=device, random_state=0).fit(X_train)
X_new = sampler.sample(1000, random_state=0)
print(f"generated {X_new.shape}; stopped after {sampler.n_iter_} iterations")

# %%
# A baseline: a Gaussian mixture on standardised rows.
scaler = StandardScaler().fit(X_train)
mixture = GaussianMixture(2, random_state=0).fit(scaler.transform(X_train))
X_mixture = scaler.inverse_transform(mixture.sample(1000)[0])

# %%
# Scores against the held-out half: lower energy distance is better, a C2ST AUC
# near 0.5 means a classifier cannot tell generated from real rows, and a dcr
# near 1 means the rows are not copies of the training rows.
for name, rows in [("LipschitzParticleSampler", X_new), ("GaussianMixture", X_mixture)]:
    report = sample_report(X_train, X_test, rows, random_state=0)
    print(
        f"{name:25s} energy {report['energy_distance']:.3f}  "
        f"c2st {report['c2st_auc']:.2f}  dcr {report['dcr']:.2f}"
    )

# %%
# Look at the rows: principal components, a few marginals, the convergence.
fig = plt.figure(figsize=(12, 4))
plot_pca(X, X_new, ax=fig.add_subplot(1, 1, 1))
fig.savefig("quick_start_pca.png", dpi=100, bbox_inches="tight")
plot_marginals(X, X_new, max_features=8).savefig("quick_start_marginals.png", dpi=90)
plot_history(sampler).savefig("quick_start_history.png", dpi=90)
