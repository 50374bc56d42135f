"""The progress bars of long requests made without ``verbose``.

A fit's own bar (``TorchEstimatorMixin._progress``) shows at once with
``verbose=1``; these appear only once a request has run for
:data:`QUIET_PROGRESS_DELAY` seconds, and are erased when it ends, so that no
request runs past half a minute without a sign of life: an ``AutoSampler`` race, a
fit per class or per group, a ``sample`` of many chunks.
"""

from __future__ import annotations

from collections.abc import Iterator

from tqdm.auto import tqdm

from ._torch_utils import iter_chunks

# Seconds after which a request made without verbose shows its progress bar:
# no request runs past half a minute without a sign of life.
QUIET_PROGRESS_DELAY = 30.0


def quiet_progress(
    iterable=None, *, total=None, desc: str, unit: str = "it", disable=False
):
    """A tqdm bar on stderr that appears only after :data:`QUIET_PROGRESS_DELAY`
    seconds, and is erased when closed: the sign of life of a long request
    made without ``verbose`` (a race, a fit per class or group, a big draw).
    Iterate over it to advance it over ``iterable``, or ``update`` it;
    ``disable`` where the caller reports progress its own way."""
    return tqdm(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        delay=QUIET_PROGRESS_DELAY,
        leave=False,
        disable=disable,
    )


# Rows a sampler generates at once: bounds the memory of a draw by the chunk.
SAMPLE_CHUNK_ROWS = 65536


def sample_chunks(owner: str, n_rows: int, chunk_rows=None) -> Iterator[slice]:
    """Slices covering ``range(n_rows)`` in chunks of ``chunk_rows`` (default
    :data:`SAMPLE_CHUNK_ROWS`), for a draw to make in turn.

    Over more than one chunk, a tqdm bar of the rows drawn appears on stderr
    once the draw has run for :data:`QUIET_PROGRESS_DELAY` seconds (and is
    erased at the end): a ``sample`` of many rows from a long flow is never
    silent. The bar is advanced on the host as the chunks are queued, so it
    adds no device synchronisation.
    """
    chunk_rows = SAMPLE_CHUNK_ROWS if chunk_rows is None else int(chunk_rows)
    if n_rows <= chunk_rows:
        yield slice(0, n_rows)
        return
    with quiet_progress(total=n_rows, desc=f"{owner}.sample", unit="row") as bar:
        for rows in iter_chunks(n_rows, chunk_rows):
            yield rows
            bar.update(rows.stop - rows.start)
