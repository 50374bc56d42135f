"""Write the legacy skflow files that tests/test_persistence.py loads.

Run once with the release whose files must keep loading (the files in this
folder were written by skflow 0.1.0.dev0, the flat ``parameter_{i}`` state
layout, before fitted state became named nested containers):

    python tests/data/legacy/make_files.py

Each ``<name>.skflow`` comes with ``<name>.npz``: the rows that the fitted model
drew, or the codes it gave, when it was saved, so a later release can check it
reproduces them from the old file.
"""

from pathlib import Path

import numpy as np

import skflow
from skflow._testing import fast_samplers

HERE = Path(__file__).parent


def main():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 3)) @ np.array([[1.0, 0.5, 0.0], [0, 1, 0.3], [0, 0, 2]])
    for index, sampler in enumerate(fast_samplers()):
        name = f"sampler_{index}_{type(sampler).__name__}"
        sampler.fit(X)
        skflow.save(sampler, HERE / f"{name}.skflow")
        np.savez(HERE / f"{name}.npz", rows=sampler.sample(7, random_state=3))

    encoder = skflow.AutoencoderTransformer(
        n_components=2, hidden_layer_sizes=(8,), max_iter=5, random_state=0
    ).fit(X)
    skflow.save(encoder, HERE / "autoencoder.skflow")
    np.savez(
        HERE / "autoencoder.npz",
        codes=encoder.transform(X[:7]),
        rows=encoder.inverse_transform(encoder.transform(X[:7])),
    )

    pipeline = skflow.make_generative_pipeline(
        skflow.AutoencoderTransformer(
            n_components=2, hidden_layer_sizes=(8,), max_iter=5, random_state=0
        ),
        skflow.SlicedWassersteinFlow(
            max_iter=3, hidden_layer_sizes=(8,), n_projections=10, random_state=0
        ),
    ).fit(X)
    skflow.save(pipeline, HERE / "pipeline.skflow")
    np.savez(HERE / "pipeline.npz", rows=pipeline.sample(7, random_state=3))


if __name__ == "__main__":
    main()
