"""GenerativePipeline: a scikit-learn Pipeline whose last step samples."""

from __future__ import annotations

import inspect
import os

from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._base import pass_input_scale

__all__ = ["GenerativePipeline", "make_generative_pipeline"]


def _final_step_can_sample(pipeline) -> bool:
    """Whether the last step has ``sample``: the condition of ``available_if``.

    Raising AttributeError (rather than returning False) lets the message say
    what to change, while ``hasattr(pipeline, "sample")`` is still False, as
    for ``Pipeline.predict`` when the last step cannot predict.
    """
    sampler = pipeline._final_estimator
    if not hasattr(sampler, "sample"):
        raise AttributeError(
            f"The last step {pipeline.steps[-1][0]!r} "
            f"({type(sampler).__name__}) has no sample method; end the "
            "pipeline with a sampler such as skflow.LipschitzParticleSampler."
        )
    return True


class GenerativePipeline(Pipeline):
    """A :class:`sklearn.pipeline.Pipeline` that can also ``sample``.

    ``fit`` runs the transformers and fits the last step (a sampler) on the
    transformed rows, exactly as a Pipeline does; ``sample`` draws rows from the
    last step and maps them back through every earlier step's
    ``inverse_transform``, in reverse order. Everything else (``transform``,
    ``score``, ``get_params``/``set_params``, ``GridSearchCV``) is the
    Pipeline's own: ``score(X)`` transforms ``X`` through the earlier steps and
    returns the last step's ``score`` in that space.

    Read more in the :ref:`User Guide <pipelines>`.

    Parameters
    ----------
    steps : list of tuple
        ``(name, estimator)`` pairs. Every step but the last must have
        ``inverse_transform`` (or be ``"passthrough"``/None) for ``sample`` to
        work; the last must have ``sample``.

    transform_input : list of str, default=None
        As in :class:`sklearn.pipeline.Pipeline`.

    memory : str or object with the joblib.Memory interface, default=None
        Caches fitted transformers, as in :class:`sklearn.pipeline.Pipeline`.

    verbose : bool, default=False
        Print the time taken by each step's fit.

    Attributes
    ----------
    named_steps, n_features_in_, feature_names_in_
        As in :class:`sklearn.pipeline.Pipeline`.

    See Also
    --------
    make_generative_pipeline : Build one without naming the steps.

    Notes
    -----
    ``sample`` exists only when the last step has one, the way
    :class:`~sklearn.pipeline.Pipeline` offers ``predict`` only when its last
    step predicts: ``hasattr(pipeline, "sample")`` is False for a pipeline that
    ends in a transformer, and calling it raises an AttributeError naming that
    step.

    Steps without ``inverse_transform`` are reported when ``sample`` is called,
    not at construction or ``fit``: such a pipeline still fits, transforms and
    scores (e.g. for model selection) and only sampling needs the way back. The
    error names the first such step. When the last step's ``sample`` returns a
    tuple ``(X, y, ...)`` (a class-conditional sampler), only ``X`` goes through
    the inverse transforms; the other items are returned unchanged.

    A skflow sampler standardises each of its input columns, except right after
    a :class:`~skflow.TabularEncoder`: the encoder already puts every column on
    one scale and weighs its indicator blocks so that a column of many levels
    counts as much as a numeric one, and the pipeline tells its last step to
    keep that weighting (it only centres the rows).

    Examples
    --------
    >>> from sklearn.datasets import load_wine
    >>> from sklearn.decomposition import PCA
    >>> from skflow import SlicedWassersteinFlow, make_generative_pipeline
    >>> X, _ = load_wine(return_X_y=True)
    >>> pipe = make_generative_pipeline(
    ...     PCA(5), SlicedWassersteinFlow(max_iter=5, random_state=0))
    >>> pipe.fit(X).sample(4, random_state=0).shape
    (4, 13)
    """

    # Set when this pipeline is itself the last step behind a TabularEncoder
    # (see skflow._base.pass_input_scale).
    _shared_input_scale = False

    def _check_step_list(self) -> None:
        """Refuse ``steps`` that are not a list of ``(name, estimator)`` pairs
        of instances, before scikit-learn unpacks them."""
        steps = self.steps
        form = (
            "steps must be a non-empty list of (name, estimator) pairs ending "
            "with a sampler, e.g. [('encoder', TabularEncoder()), ('sampler', "
            "SlicedWassersteinFlow())], or use make_generative_pipeline(...)"
        )
        if not isinstance(steps, (list, tuple)) or not steps:
            raise TypeError(f"{form}; got {steps!r}.")
        for step in steps:
            if not (
                isinstance(step, tuple) and len(step) == 2 and isinstance(step[0], str)
            ):
                raise TypeError(f"{form}; got the step {step!r}.")
        names = [name for name, _ in steps]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(
                f"The step names {repeated} repeat; give every step its own name."
            )
        if isinstance(self.memory, (str, os.PathLike)):
            try:
                os.makedirs(self.memory, exist_ok=True)
            except OSError as exc:
                raise type(exc)(
                    exc.errno,
                    f"memory={str(self.memory)!r} cannot hold the pipeline's cache "
                    f"({exc.strerror or exc}); give a writable folder, or "
                    "memory=None",
                ) from exc
        for name, step in steps[:-1]:
            if step in (None, "passthrough"):
                continue
            if isinstance(step, type) or not all(
                hasattr(step, method) for method in ("fit", "transform")
            ):
                raise TypeError(
                    f"Step {name!r} must be a transformer instance (with fit and "
                    f"transform) or 'passthrough', got {step!r}."
                )
        name, last = steps[-1]
        if last not in (None, "passthrough") and (
            isinstance(last, type) or not hasattr(last, "fit")
        ):
            raise TypeError(
                f"The last step {name!r} must be an estimator instance (a sampler, "
                f"to sample), got {last!r}."
            )

    def fit(self, X, y=None, **params):
        """Fit every step in turn; a fit that raises changes no step.

        As :meth:`sklearn.pipeline.Pipeline.fit`, except that when a later
        step fails (the sampler refuses the rows, say) the steps fitted before
        it get their earlier state back: a pipeline fitted earlier still
        samples as before, and a new one stays unfitted.

        Parameters
        ----------
        X : iterable
            Training rows, as the first step takes them.
        y : iterable, default=None
            Targets (class labels for a class-conditional last step).
        **params : dict
            Parameters passed to the steps' ``fit``, as ``Pipeline.fit`` routes
            them.

        Returns
        -------
        self : GenerativePipeline
            The fitted pipeline.
        """
        self._check_step_list()
        # Fitting assigns new attributes rather than mutating old ones (the
        # rule of skflow's and scikit-learn's estimators), so shallow copies of
        # the instance dictionaries are the whole state.
        saved = [
            (step, dict(step.__dict__))
            for _, step in self.steps
            if hasattr(step, "__dict__") and not isinstance(step, str)
        ]
        own = dict(self.__dict__)
        # The last step learns from the last transformer's output: on one
        # shared scale after a TabularEncoder (see pass_input_scale); with no
        # transformer, on the scale this pipeline's own input has.
        transformers = [
            step for _, _, step in self._iter(with_final=False, filter_passthrough=True)
        ]
        shared = (
            getattr(transformers[-1], "_shared_output_scale", False)
            if transformers
            else self._shared_input_scale
        )
        final = self._final_estimator
        if final not in (None, "passthrough"):
            pass_input_scale(final, shared)
            # A private sampler checks that the steps before it were fitted
            # without the rows and takes its public bounds from the last
            # (skflow._base.BaseSampler._fit_public_scaling); only for the
            # length of this fit, so nothing of it is saved with the model.
            if hasattr(type(final), "_fit_public_scaling"):
                final._input_transformers = transformers
        try:
            return super().fit(X, y, **params)
        except BaseException:
            for step, state in saved:
                step.__dict__.clear()
                step.__dict__.update(state)
            self.__dict__.clear()
            self.__dict__.update(own)
            raise
        finally:
            if final not in (None, "passthrough"):
                final.__dict__.pop("_input_transformers", None)

    @available_if(_final_step_can_sample)
    def sample(
        self, n_samples=None, *, random_state=None, conditions=None, **sample_params
    ):
        """Draw rows from the last step and map them back to the input space.

        Parameters
        ----------
        n_samples : int or None, default=None
            Number of rows to generate. None leaves it to the last step's
            default: one row for the skflow samplers, one row per label when a
            :class:`~skflow.ClassConditionalSampler` is given ``y``.

        random_state : int, RandomState instance or None, default=None
            Passed to the last step's ``sample`` (see its documentation). A last
            step whose ``sample`` takes no ``random_state`` (e.g.
            ``GaussianMixture``) accepts only None here.

        conditions : dict, DataFrame or None, default=None
            Columns to fix in the pipeline's input terms (a category, a number,
            a date, or a range ``(low, high)``), the others drawn: see
            :ref:`conditional`. Behind a single
            :class:`~skflow.TabularEncoder` they become fixed coordinates of
            the encoded space for the sampler's own conditional; behind other
            transformers, whole rows are drawn and accepted by rejection.
            ``conditional_report_`` says which, with the acceptance rate.

        **sample_params : dict
            Other keyword arguments of the last step's ``sample``.

        Returns
        -------
        X_new : ndarray or DataFrame of shape (n_samples, `n_features_in_`)
            Generated rows in the space the pipeline was fitted on (the first
            step's input). A tuple ``(X_new, y_new, ...)`` when the last step
            returns one.
        """
        sampler = self._final_estimator
        check_is_fitted(self)
        if conditions is not None:
            if sample_params:
                raise TypeError(
                    f"sample(conditions=...) takes no other options; got "
                    f"{sorted(sample_params)}."
                )
            from ._conditions import sample_pipeline

            return sample_pipeline(self, n_samples, random_state, conditions)
        inverters = []
        for _, name, step in self._iter(with_final=False, filter_passthrough=True):
            if not hasattr(step, "inverse_transform"):
                raise TypeError(
                    f"Step {name!r} ({type(step).__name__}) has no "
                    "inverse_transform, so generated rows cannot be mapped back "
                    "through it. Use an invertible transformer there (e.g. PCA, "
                    "StandardScaler, skflow.AutoencoderTransformer, "
                    "skflow.TabularEncoder) or move it out of the pipeline."
                )
            inverters.append(step)
        if random_state is not None:
            if "random_state" not in inspect.signature(sampler.sample).parameters:
                raise TypeError(
                    f"{type(sampler).__name__}.sample takes no random_state; set "
                    "the step's own random_state parameter instead and call "
                    "sample without it."
                )
            sample_params["random_state"] = random_state
        drawn = (
            sampler.sample(**sample_params)
            if n_samples is None
            else sampler.sample(n_samples, **sample_params)
        )
        X, rest = (
            (drawn[0], tuple(drawn[1:]))
            if isinstance(drawn, tuple)
            else (
                drawn,
                None,
            )
        )
        for step in reversed(inverters):
            X = step.inverse_transform(X)
        return X if rest is None else (X, *rest)


def make_generative_pipeline(*steps, memory=None, verbose=False):
    """Build a :class:`GenerativePipeline` from estimators, naming them.

    Like :func:`sklearn.pipeline.make_pipeline`: each step is named after its
    lower-cased class name (numbered when repeated).

    Parameters
    ----------
    *steps : list of estimators
        Transformers with ``inverse_transform``, then a sampler.

    memory : str or object with the joblib.Memory interface, default=None
        Caches fitted transformers, as in :class:`sklearn.pipeline.Pipeline`.

    verbose : bool, default=False
        Print the time taken by each step's fit.

    Returns
    -------
    pipeline : GenerativePipeline
        The unfitted pipeline of the given steps.

    See Also
    --------
    GenerativePipeline : The class, with steps named by hand.
    sklearn.pipeline.make_pipeline : The same for a plain Pipeline.

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> from skflow import LipschitzParticleSampler, make_generative_pipeline
    >>> pipe = make_generative_pipeline(PCA(2), LipschitzParticleSampler())
    >>> [name for name, _ in pipe.steps]
    ['pca', 'lipschitzparticlesampler']
    """
    plain = make_pipeline(*steps, memory=memory, verbose=verbose)
    return GenerativePipeline(plain.steps, memory=memory, verbose=verbose)
