"""Docstring text shared by every sampler, written once."""

SAMPLER_PARAMETERS = """\
warm_start : bool, default=False
        When True, ``fit`` on an already fitted sampler continues training the
        fitted model for up to ``max_iter`` more iterations, on rows with the
        same columns (scaled as in the first fit), instead of starting over;
        ``n_iter_`` and ``history_`` then cover every iteration so far.

    device : str, default="auto"
        Torch device: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``,
        ``"cuda"`` or ``"cuda:<index>"``. An unavailable device warns with
        :class:`~skflow.exceptions.DeviceWarning` and falls back to the CPU. Like
        ``n_jobs``, changing it with ``set_params`` after ``fit`` takes effect at
        the next ``sample`` without refitting.

    n_jobs : int or None, default=None
        Number of CPU threads torch uses in ``fit``, ``sample`` and ``score``.
        None applies skflow's thread policy: one thread for tiny batches
        (below 1e6 multiply-adds), otherwise the available CPUs that no other
        process keeps busy at the start of the call, so a busy machine is not
        oversubscribed. ``-1`` uses every available CPU, ``-2`` all but one;
        a positive int that many, at most the available CPUs. The caller's
        torch setting is restored after each call. See "Performance" in the
        user guide for what the thread count may change in the rows.

    dtype : {"float32", "float64"}, default="float32"
        Floating-point precision of the torch computation. Samples are always
        returned as float64 arrays (or the DataFrame's float columns).

    random_state : int, RandomState instance or None, default=None
        Seeds the fit and the sequence of draws made by ``sample`` when it is
        called without its own ``random_state``. Pass an int for reproducible
        fits. The global numpy and torch random states are never touched.

    verbose : int, default=0
        1 shows a tqdm progress bar with the current loss on stderr. 0 prints
        nothing, unless the fit runs past half a minute: its bar then appears, so a
        long fit is never silent, and is erased when the fit ends."""

SAMPLER_ATTRIBUTES = """\
n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when ``X`` has
        feature names that are all strings.

    device_ : str
        The torch device the model was fitted on.

    random_state_ : numpy.random.RandomState
        The stream that seeds successive ``sample`` calls made without a
        ``random_state``; reproducible from the constructor's ``random_state``."""


PRIVACY_ATTRIBUTES = """\
epsilon_ : float
        The privacy budget spent, from Opacus's accountant: at most the
        budget's ``epsilon``. Only after a fit with ``privacy``.

    delta_ : float
        The budget's ``delta``. Only after a fit with ``privacy``.

    noise_multiplier_ : float
        The noise's standard deviation over the clipping norm, calibrated
        before the fit for ``max_iter * n_critic_steps`` noisy steps. Only
        after a fit with ``privacy``.

    privacy_steps_ : int
        Noisy critic steps taken. Only after a fit with ``privacy``."""


def fill_sampler_docstring(cls):
    """Insert the shared parameter and attribute text into ``cls.__doc__``.

    The class docstring marks the spots with ``{sampler_parameters}``,
    ``{sampler_attributes}`` and ``{privacy_attributes}`` (plain
    ``str.replace``, so other braces in the docstring, e.g. in math, are left
    alone).
    """
    if cls.__doc__:
        cls.__doc__ = (
            cls.__doc__.replace("{sampler_parameters}", SAMPLER_PARAMETERS)
            .replace("{sampler_attributes}", SAMPLER_ATTRIBUTES)
            .replace("{privacy_attributes}", PRIVACY_ATTRIBUTES)
        )
    return cls
