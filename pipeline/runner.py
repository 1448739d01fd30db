"""Run per-document work serially, over local processes, or on a Dask cluster.

Results come back in input order on every backend, so every backend writes identical
tables, and only a bounded window of documents is in flight at once, so memory grows with
the largest document rather than with the corpus.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Generic, TypeVar

from pipeline.progress import progress

T = TypeVar("T")
R = TypeVar("R")
WINDOW_PER_WORKER = 4
PR_SET_PDEATHSIG = 1  # prctl option, from <linux/prctl.h>


def _die_with_parent() -> None:
    """Ask Linux to end this worker when its parent dies, even by SIGKILL, so a killed
    run leaves no orphaned workers behind (elsewhere the pool's own shutdown applies)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except OSError:
            pass
    if os.getppid() == 1:  # the parent died before we could ask
        os._exit(1)


def _init_worker(initializer: Callable[..., Any] | None, initargs: tuple) -> None:
    _die_with_parent()
    if initializer:
        initializer(*initargs)


def resolve_jobs(jobs: int | None) -> int:
    """0 or None means all cores."""
    return max(1, jobs or os.cpu_count() or 1)


def imap_documents(
    func: Callable[..., R],
    items: Sequence[T],
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    desc: str = "",
    initializer: Callable[..., Any] | None = None,
    initargs: tuple = (),
) -> Iterator[R]:
    """Yield ``func(item)`` for each item, in order, on the chosen backend."""
    if not items:
        return
    if scheduler:
        yield from _imap_dask(func, items, scheduler, initializer, initargs)
        return
    workers = min(resolve_jobs(jobs), len(items))
    if workers <= 1:
        if initializer:
            initializer(*initargs)
        yield from (func(item) for item in progress(items, desc, total=len(items)))
        return
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_init_worker, initargs=(initializer, initargs)
    ) as pool:
        pending: deque[Future[R]] = deque()
        queue = iter(items)
        window = workers * WINDOW_PER_WORKER
        bar = progress(range(len(items)), desc, total=len(items))
        for item in queue:
            pending.append(pool.submit(func, item))
            if len(pending) >= window:
                next(bar, None)
                yield pending.popleft().result()
        while pending:
            next(bar, None)
            yield pending.popleft().result()


class Deferred(Generic[R]):
    """A future's face for work done in this process, when its result is first asked for."""

    def __init__(self, func: Callable[[T], R], item: T) -> None:
        self._func, self._item = func, item
        self._result: tuple[R] | None = None

    def result(self) -> R:
        if self._result is None:
            self._result = (self._func(self._item),)
        return self._result[0]


@contextlib.contextmanager
def started(
    func: Callable[[T], R],
    items: Sequence[T],
    *,
    jobs: int = 1,
    initializer: Callable[..., Any] | None = None,
    initargs: tuple = (),
) -> Iterator[list[Future[R] | Deferred[R]]]:
    """Start ``func(item)`` for every item over up to ``jobs`` processes and hand back their
    futures at once, so the caller does its own share of the work meanwhile. With one job,
    each runs here when its result is first asked for. Leaving the block waits for (or, on
    an error, cancels) whatever is still running."""
    workers = min(resolve_jobs(jobs), len(items))
    if resolve_jobs(jobs) <= 1 or not items:
        if initializer:
            initializer(*initargs)
        yield [Deferred(func, item) for item in items]
        return
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_init_worker, initargs=(initializer, initargs)
    ) as pool:
        futures = [pool.submit(func, item) for item in items]
        try:
            yield list(futures)
        except BaseException:
            for future in futures:
                future.cancel()
            raise


@contextlib.contextmanager
def helper_process(jobs: int) -> Iterator[ProcessPoolExecutor | None]:
    """One spare worker process, started now, for work that only saves a later step time
    (imports, a parse ahead): what is submitted to it runs in order while this process goes
    on. It ignores Ctrl-C (this process handles it, and ends the helper on the way out).
    None with one job, or where processes cannot be forked."""
    import multiprocessing

    if resolve_jobs(jobs) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield None
        return
    with ProcessPoolExecutor(
        max_workers=1, mp_context=multiprocessing.get_context("fork"), initializer=_init_helper
    ) as pool:
        pool.submit(int)  # the process starts with its first task
        try:
            yield pool
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _init_helper() -> None:
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def completion_order(futures: Sequence[Future[R] | Deferred[R]]) -> Iterator[int]:
    """The positions of ``futures`` as their work ends (in order for work done here)."""
    waiting = {future: index for index, future in enumerate(futures) if isinstance(future, Future)}
    for index, future in enumerate(futures):
        if not isinstance(future, Future):
            yield index
    while waiting:
        done, _ = wait(waiting, return_when=FIRST_COMPLETED)
        for future in sorted(done, key=waiting.__getitem__):
            yield waiting.pop(future)


def map_documents(func: Callable[..., R], items: Sequence[T], **options: Any) -> list[R]:
    """``list(imap_documents(...))`` for callers that need every result at once."""
    return list(imap_documents(func, items, **options))


def _imap_dask(
    func: Callable[..., R],
    items: Sequence[T],
    address: str,
    initializer: Callable[..., Any] | None,
    initargs: tuple,
) -> Iterator[R]:
    """Per-document work on an existing Dask distributed cluster, results in order."""
    from dask.distributed import Client

    with Client(address, set_as_default=False) as client:
        if initializer:
            client.run(initializer, *initargs)
        window = max(8, 4 * sum(client.nthreads().values()))
        pending: deque = deque()
        for item in items:
            pending.append(client.submit(func, item, pure=False))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
