"""Run per-document work serially, over local processes, or on a Dask cluster.

Results always come back in input order, so every backend writes identical tables.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from pipeline.progress import progress

T = TypeVar("T")
R = TypeVar("R")


def resolve_jobs(jobs: int | None) -> int:
    """0 or None means all cores."""
    return max(1, jobs or os.cpu_count() or 1)


def map_documents(
    func: Callable[..., R],
    items: Sequence[T],
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    desc: str = "",
    initializer: Callable[..., Any] | None = None,
    initargs: tuple = (),
    **kwargs: Any,
) -> list[R]:
    """``[func(item, **kwargs) for item in items]`` on the chosen backend, in order."""
    if not items:
        return []
    if scheduler:
        return _map_dask(func, items, scheduler, desc, **kwargs)
    workers = min(resolve_jobs(jobs), len(items))
    if workers <= 1:
        if initializer:
            initializer(*initargs)
        return [func(item, **kwargs) for item in progress(items, desc, total=len(items))]
    with ProcessPoolExecutor(
        max_workers=workers, initializer=initializer, initargs=initargs
    ) as pool:
        futures = [pool.submit(func, item, **kwargs) for item in items]
        return [f.result() for f in progress(futures, desc, total=len(futures))]


def _map_dask(
    func: Callable[..., R], items: Sequence[T], address: str, desc: str, **kwargs
) -> list[R]:
    from dask.distributed import Client

    with Client(address, set_as_default=False) as client:
        futures = client.map(func, list(items), pure=False, **kwargs)
        return client.gather(futures)
