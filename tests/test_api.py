"""API hygiene over the public estimators: keyword-only constructors."""

import inspect

import pytest

import skflow

# A first argument that sklearn users pass by position, as for PCA(n_components)
# and Pipeline(steps); everything after it is keyword-only.
POSITIONAL_FIRST = {
    "AutoencoderTransformer": "n_components",
    "ClassConditionalSampler": "sampler",
    "GroupedSampler": "sampler",
    "SyntheticOverSampler": "sampler",
}

ESTIMATORS = [
    skflow.AutoSampler,
    skflow.AutoencoderTransformer,
    skflow.ClassConditionalSampler,
    skflow.EntropicOTGenerator,
    skflow.GaussianMixtureSampler,
    skflow.GroupedSampler,
    skflow.LipschitzParticleSampler,
    skflow.ProximalMFGFlow,
    skflow.SlicedWassersteinFlow,
    skflow.SyntheticOverSampler,
    skflow.TabularEncoder,
]


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda cls: cls.__name__)
def test_constructor_parameters_are_keyword_only(cls):
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    positional = [
        p.name for p in parameters if p.kind is not inspect.Parameter.KEYWORD_ONLY
    ]
    expected = (
        [POSITIONAL_FIRST[cls.__name__]] if cls.__name__ in POSITIONAL_FIRST else []
    )
    assert positional == expected


def test_a_positional_argument_is_refused():
    with pytest.raises(TypeError, match="positional"):
        skflow.SlicedWassersteinFlow("generator")
