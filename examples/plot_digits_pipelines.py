"""
Sampling digits through PCA and autoencoder pipelines
=====================================================

A :class:`skflow.GenerativePipeline` chains encoders and a sampler: ``fit`` encodes
the rows and fits the sampler on the codes, ``sample`` draws new codes and decodes
them with each encoder's ``inverse_transform``. Here the 64-pixel digits of
scikit-learn are encoded two ways, by a linear :class:`~sklearn.decomposition.PCA`
and by a nonlinear :class:`skflow.AutoencoderTransformer`, both with 10
components, and the same :class:`skflow.LipschitzParticleSampler` generates in each
latent space. The saved figure shows held-out digits next to generated ones; the
printed lines score the generated pixels against the held-out ones in a common
space (the leading principal components of the training digits).
"""

# %%
import time
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skflow import (  # noqa: E402
    AutoencoderTransformer,
    LipschitzParticleSampler,
    make_generative_pipeline,
)
from skflow.metrics import c2st_auc, energy_distance  # noqa: E402

device = "auto"  # "cpu", "cuda", ...: the same code runs on either
warnings.simplefilter("ignore", ConvergenceWarning)

# %%
# Two pipelines that differ only in the encoder. The particle sampler runs a
# short flow (60 iterations) to keep this example fast; see
# benchmarks/bench_latent_pipeline.py for longer runs.
X, _ = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)


def sampler():
    return LipschitzParticleSampler(max_iter=60, device=device, random_state=0)


pipelines = {
    "PCA(10)": make_generative_pipeline(
        StandardScaler(), PCA(10, random_state=0), sampler()
    ),
    "AutoencoderTransformer(10)": make_generative_pipeline(
        AutoencoderTransformer(
            10, hidden_layer_sizes=(64, 32), max_iter=60, device=device, random_state=0
        ),
        sampler(),
    ),
}

# %%
# Fit each pipeline and generate as many digits as the test split has. Pixels are
# integer intensities 0..16: round the decoded rows back onto that grid.
scaler = StandardScaler().fit(X_train)
evaluation = PCA(10, random_state=0).fit(scaler.transform(X_train))
real = evaluation.transform(scaler.transform(X_test))
generated = {}
for name, pipe in pipelines.items():
    start = time.perf_counter()
    pipe.fit(X_train)
    rows = np.clip(np.rint(pipe.sample(len(X_test), random_state=0)), 0, 16)
    generated[name] = rows
    fake = evaluation.transform(scaler.transform(rows))
    print(
        f"{name:27s} fit+sample {time.perf_counter() - start:5.1f} s  "
        f"energy distance {energy_distance(real, fake):.3f}  "
        f"C2ST AUC {c2st_auc(real, fake, random_state=0):.2f}"
    )

# %%
# Held-out digits (top rows) and digits generated through each encoder.
fig, axes = plt.subplots(
    6, 10, figsize=(8, 5.4), subplot_kw={"xticks": [], "yticks": []}
)
panels = [("real", X_test)] + list(generated.items())
for block, (name, images) in enumerate(panels):
    for ax, image in zip(axes[2 * block : 2 * block + 2].ravel(), images[:20]):
        ax.imshow(image.reshape(8, 8), cmap="binary", vmin=0, vmax=16)
    axes[2 * block, 0].set_ylabel(name.split("(")[0], rotation=0, ha="right")
fig.suptitle("Held-out digits vs LipschitzParticleSampler in PCA and AE spaces")
fig.savefig("digits_pipelines.png", dpi=110, bbox_inches="tight")
print("saved digits_pipelines.png")
