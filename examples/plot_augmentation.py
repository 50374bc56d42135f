"""
Class-conditional rows and imbalanced classification
====================================================

Two ways to use a sampler with labelled data. :class:`skflow.ClassConditionalSampler`
fits one sampler per class and returns labelled rows, with the class proportions
of the training labels or exactly the labels asked for.
:class:`skflow.SyntheticOverSampler` is an imbalanced-learn resampler: inside an
imblearn ``Pipeline`` it grows the minority class with generated rows before the
classifier is fitted, in place of SMOTE's interpolation. We make breast cancer
imbalanced (one malignant row for every eight benign ones) and compare the
balanced accuracy on held-out rows without resampling, with SMOTE, and with the
skflow over-sampler.
"""

# %%
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from imblearn.over_sampling import SMOTE  # noqa: E402
from imblearn.pipeline import make_pipeline  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import balanced_accuracy_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skflow import (  # noqa: E402
    ClassConditionalSampler,
    LipschitzParticleSampler,
    SyntheticOverSampler,
)

device = "auto"
warnings.simplefilter("ignore", ConvergenceWarning)

X, y = load_breast_cancer(return_X_y=True)
rng = np.random.RandomState(0)
# Keep every benign row (y = 1) and one malignant row (y = 0) for every eight.
keep = (y == 1) | (rng.rand(len(y)) < 357 / 8 / 212)
X, y = X[keep], y[keep]
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.5, stratify=y, random_state=0
)
print(f"training rows per class: {np.bincount(y_train)}")

# %%
# Labelled rows from one sampler per class.
conditional = ClassConditionalSampler(
    LipschitzParticleSampler(device=device), random_state=0
).fit(X_train, y_train)
X_new, y_new = conditional.sample(200)
print(f"sample(200): class counts {np.bincount(y_new)} (training proportions)")
X_asked, y_asked = conditional.sample(y=[0, 0, 1])
print(f"sample(y=[0, 0, 1]) returns labels {y_asked.tolist()}")

# %%
# Over-sampling inside a pipeline: the resampler runs only on training rows.
arms = {
    "no resampling": [],
    "SMOTE": [SMOTE(random_state=0)],
    "SyntheticOverSampler": [
        SyntheticOverSampler(LipschitzParticleSampler(device=device), random_state=0)
    ],
}
scores = {}
for name, resampler in arms.items():
    model = make_pipeline(
        *resampler, StandardScaler(), LogisticRegression(max_iter=2000)
    )
    model.fit(X_train, y_train)
    scores[name] = balanced_accuracy_score(y_test, model.predict(X_test))
    print(f"{name:22s} balanced accuracy {scores[name]:.3f}")

fig, ax = plt.subplots(figsize=(6, 3))
ax.barh(list(scores), list(scores.values()), color="tab:blue")
ax.set_xlim(0.8, 1.0)
ax.set_xlabel("balanced accuracy on held-out rows")
fig.savefig("augmentation.png", dpi=100, bbox_inches="tight")
