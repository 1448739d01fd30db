"""Run per-document work serially, over local processes, or on a Dask cluster.

Results come back in input order on every backend, so every backend writes identical
tables, and only a bounded window of documents is in flight at once, so memory grows with
the largest document rather than with the corpus.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

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


def start_beside(func: Callable[..., Any], *args: Any) -> Any | None:
    """Run ``func(*args)`` in a forked process beside this one, for work that only saves a
    later stage time: it prints nothing, and whatever it raises (or a Ctrl-C) ends it
    quietly, since the stage that wanted it redoes what it did not finish. ``None`` where
    processes cannot be forked."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    process = multiprocessing.get_context("fork").Process(
        target=_beside, args=(func, args), name="pipeline-beside", daemon=True
    )
    process.start()
    return process


def _beside(func: Callable[..., Any], args: tuple) -> None:
    _die_with_parent()
    try:
        func(*args)
    except BaseException:  # noqa: BLE001 - only an optimisation: the stage itself redoes it
        os._exit(1)


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
