"""Scoring on several processes of one machine: one model per process, batches of articles handed out
in turn and their results given back in input order.

One process already runs the model's matrix products on every core, but the rest of scoring
(segmentation, tokenisation, span decoding, attribution, profiles) is Python on one core, and ONNX
Runtime gains less from a second thread than from a second process. On 2 cores two one-thread workers
score 1.1–1.5× faster than one two-thread process (``benchmarks/score_speed.py``; this machine varies).
"""

from __future__ import annotations

import ctypes
import itertools
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from framing.io import InputError
from framing.model import ModelSpec, SentenceModel, default_threads
from framing.record import Article
from framing.score import batches, score_items

_MODEL: SentenceModel | None = None  # each worker's own model, loaded once by _start


def _start(spec: ModelSpec, threads: int) -> None:
    global _MODEL
    _die_with_parent()
    # Ctrl-C reaches the whole process group: the parent stops the batch and ends the workers. A worker
    # that took the signal itself would look like a crashed worker, whose batch the parent scores again.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _MODEL = spec.load(threads)


def _die_with_parent() -> None:
    """Ask Linux to end this worker when its parent dies, however it dies (``kill -9`` included), so no
    worker outlives a killed batch. Elsewhere the pool's own shutdown is all there is."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before the request was made
        os._exit(1)


def _score(batch: list[Article]) -> list[Article | InputError]:
    assert _MODEL is not None
    return list(score_items(batch, _MODEL))


DEFAULT_WORKERS_CAP = 8
"""``framing score`` starts one worker per core, up to this many (``--workers`` sets any number)."""
WORKER_BATCH = 8
"""Articles per task. The model call is per window whatever the batch, so small tasks cost nothing and
keep every worker busy to the end (32-article tasks left one worker idle for the last of 7)."""
SMALL_INPUT = 64
"""Inputs of at most this many articles are scored in this process: starting workers would cost more."""


def score_parallel(
    items: Iterable[Article | InputError], model: SentenceModel, spec: ModelSpec, workers: int, batch_size: int = WORKER_BATCH
) -> Iterator[Article | InputError]:
    """``score_items`` over ``workers`` processes, each loading the model ``spec`` names (``model`` is
    that model, loaded here: it scores inputs too small to be worth the processes' start, and any batch
    whose worker died). Output order is input order."""
    items = iter(items)
    head = list(itertools.islice(items, SMALL_INPUT + 1))
    if workers <= 1 or len(head) <= SMALL_INPUT:
        yield from score_items(itertools.chain(head, items), model)
        return
    threads = max(1, default_threads() // workers)
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start, initargs=(spec, threads))
    # Futures of scored batches and input errors, in input order; a few batches per worker in flight so
    # none waits, and no more, so memory stays flat on any input size.
    pending: deque[tuple[Future[list[Article | InputError]] | None, list[Article]] | InputError] = deque()
    try:
        for batch in batches(itertools.chain(head, items), batch_size):
            if isinstance(batch, InputError):
                pending.append(batch)
                continue
            try:
                pending.append((pool.submit(_score, batch), batch))
            except BrokenProcessPool:  # a worker died: what is left is scored here
                pending.append((None, batch))
            while sum(not isinstance(p, InputError) for p in pending) > 4 * workers:
                yield from _result(pending.popleft(), model)
        while pending:
            yield from _result(pending.popleft(), model)
    except BaseException:
        # Ctrl-C, SIGTERM turned into an exception, or the consumer gone: end the workers now instead of
        # waiting for the batches they hold (that wait was over ten minutes on a large input).
        _terminate(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _terminate(pool: ProcessPoolExecutor) -> None:
    # ProcessPoolExecutor has no public way to stop running tasks; its worker processes are the only handle.
    for process in list((pool._processes or {}).values()):
        process.terminate()
    for process in list((pool._processes or {}).values()):
        process.join(timeout=5)


def _result(
    item: tuple[Future[list[Article | InputError]] | None, list[Article]] | InputError, model: SentenceModel
) -> Iterator[Article | InputError]:
    if isinstance(item, InputError):
        yield item
        return
    future, batch = item
    try:
        if future is None:
            raise BrokenProcessPool("no worker left")
        scored = future.result()
    except Exception:  # noqa: BLE001 - a worker that died (killed, out of memory) loses no article
        scored = list(score_items(batch, model))
    yield from scored
