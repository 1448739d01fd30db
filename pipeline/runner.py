"""Run per-document work serially, over local processes, or on a Dask cluster.

Results come back in input order on every backend, so every backend writes identical
tables, and only a bounded window of documents is in flight at once, so memory grows with
the largest document rather than with the corpus.
"""

from __future__ import annotations

import ctypes
import gc
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

from pipeline.progress import progress

T = TypeVar("T")
R = TypeVar("R")
S = TypeVar("S")
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
) -> Generator[R, None, None]:
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


_FORKED: Any = None  # what ``fork_map``'s workers inherit, set only while it runs


def _call_with_shared(func: Callable[[Any, T], R], item: T) -> R:
    return func(_FORKED, item)


def fork_map(func: Callable[[S, T], R], items: Sequence[T], shared: S, *, jobs: int = 1) -> list[R]:
    """``[func(shared, item) for item in items]`` over up to ``jobs`` forked processes.

    For the corpus-level analyses and the report's pieces: few items, each reading large
    ``shared`` inputs. The workers inherit ``shared`` by ``fork`` instead of receiving a
    pickled copy, and with the collector frozen they share its pages with this process
    rather than copying them. Serial with one job, one item, or where fork is not
    available; the results are the same either way, in the order of ``items``."""
    global _FORKED
    import multiprocessing

    workers = min(resolve_jobs(jobs), len(items))
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [func(shared, item) for item in items]
    _FORKED = shared
    gc.freeze()
    try:
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("fork"), initializer=_die_with_parent
        ) as pool:
            return list(pool.map(_call_with_shared, [func] * len(items), items))
    finally:
        gc.unfreeze()
        _FORKED = None


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
