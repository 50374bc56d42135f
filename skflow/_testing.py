"""Quick-to-fit instances of every skflow sampler, for tests.

The test suite runs the whole sampler contract over :func:`fast_samplers`; a new
sampler joins every contract and bad-input test by being added here.
"""

from . import (
    EntropicOTGenerator,
    LipschitzParticleSampler,
    ProximalMFGFlow,
    SlicedWassersteinFlow,
)


def fast_flow():
    """A quick-to-fit SlicedWassersteinFlow (generator parameterization), the
    sampler inside the meta-estimators of the tests."""
    return SlicedWassersteinFlow(
        max_iter=3,
        n_inner_steps=2,
        hidden_layer_sizes=(16,),
        batch_size=64,
        n_projections=20,
        device="cpu",
        random_state=0,
    )


def fast_samplers():
    """One quick-to-fit instance of every public sampler."""
    return [
        LipschitzParticleSampler(
            max_iter=5,
            n_particles=60,
            n_critic_steps=2,
            hidden_layer_sizes=(16,),
            device="cpu",
            random_state=0,
        ),
        fast_flow(),
        SlicedWassersteinFlow(
            parameterization="normalizing_flow",
            max_iter=3,
            n_inner_steps=2,
            hidden_layer_sizes=(8,),
            n_layers=2,
            batch_size=64,
            n_projections=20,
            entropy_weight=0.01,
            device="cpu",
            random_state=0,
        ),
        SlicedWassersteinFlow(
            parameterization="particles",
            max_iter=3,
            n_inner_steps=2,
            n_particles=80,
            n_projections=20,
            device="cpu",
            random_state=0,
        ),
        EntropicOTGenerator(
            max_iter=4,
            n_dual_steps=2,
            hidden_layer_sizes=(16,),
            batch_size=32,
            device="cpu",
            random_state=0,
        ),
        EntropicOTGenerator(
            solver="sinkhorn",
            max_iter=4,
            hidden_layer_sizes=(16,),
            batch_size=32,
            device="cpu",
            random_state=0,
        ),
        ProximalMFGFlow(
            max_iter=4,
            n_steps=3,
            hidden_layer_sizes=(16,),
            batch_size=64,
            n_critic_steps=2,
            device="cpu",
            random_state=0,
        ),
        ProximalMFGFlow(
            parameterization="potential",
            solver="heun",
            max_iter=4,
            n_steps=3,
            hidden_layer_sizes=(16,),
            batch_size=64,
            n_critic_steps=2,
            device="cpu",
            random_state=0,
        ),
    ]


def interrupting_progress_bar(at_progress: int = 1):
    """A stand-in for ``tqdm`` whose progress reaching ``at_progress`` raises
    ``KeyboardInterrupt``: the user pressing Ctrl-C at a known point of a fit.

    Patch it over the ``tqdm`` an estimator module imported.
    """

    class InterruptingBar:
        def __init__(self, *args, **kwargs):
            self.n = 0

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, n):
            self.n += n
            if self.n >= at_progress:
                raise KeyboardInterrupt

        def set_postfix(self, *args, **kwargs):
            pass

    return InterruptingBar
