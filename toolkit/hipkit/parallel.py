"""Run many independent replicates (power simulations, bootstrap refits) on Dask ``distributed``.

Every replicate is a pure function of its arguments and its own seed, so the results do not depend
on how many workers there are or in which order they run. By default a :class:`distributed.LocalCluster`
with one single-threaded worker process per core is started for the run (so a laptop uses all its
cores) and closed afterwards; pass a scheduler address or a running :class:`distributed.Client` to
use a cluster, or ``"serial"`` to run in this process without Dask.

This module is on the ground floor of the package: it imports nothing of hipkit. A LocalCluster's
workers are warmed up by importing the module of the function they will run (whatever it is), so
the executor knows nothing of the models, the power simulations or the cleaning it runs.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager

__all__ = ["run_replicates", "dask_client", "module_of"]


@contextmanager
def dask_client(scheduler=None, warm: Iterable[str] = ()):
    """A ``distributed.Client`` for ``scheduler`` (None: a LocalCluster for the duration).

    Parameters
    ----------
    scheduler : None, str or distributed.Client
        None starts a LocalCluster (one worker process per core, one thread each, no dashboard);
        a string is a scheduler address (``"tcp://10.0.0.5:8786"``); a Client is used as it is.
    warm : iterable of str
        Modules every worker of a new LocalCluster imports as part of starting it (typically the
        module of the function the replicates call, see :func:`module_of`), so that the first
        replicates do not pay for the imports.

    Yields
    ------
    distributed.Client
    """
    from distributed import Client, LocalCluster

    if isinstance(scheduler, Client):
        yield scheduler
        return
    if scheduler is None:
        import warnings

        with warnings.catch_warnings():
            # "Port 8787 is already in use": another cluster holds the default HTTP port; harmless here
            warnings.simplefilter("ignore", UserWarning)
            cluster = LocalCluster(
                n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True, dashboard_address=None
            )
        client = Client(cluster)
        client.run(_warm_up, tuple(warm))  # import the replicates' modules on every worker now
        try:
            yield client
        finally:
            client.close()
            cluster.close()
        return
    client = Client(str(scheduler))
    try:
        yield client
    finally:
        client.close()


def _warm_up(modules: tuple[str, ...]) -> None:
    """Import ``modules`` (and so what they import: numpy, pandas, scipy...) once per worker process."""
    for name in modules:
        importlib.import_module(name)


def module_of(fn: Callable) -> str | None:
    """The module defining ``fn`` (a function, a :func:`functools.partial` of one, or a callable object).

    Examples
    --------
    >>> module_of(functools.partial(module_of, print))
    'hipkit.parallel'
    >>> module_of(print) is None  # builtins need no warming up
    True
    """
    while isinstance(fn, functools.partial):
        fn = fn.func
    name = getattr(fn, "__module__", None) or type(fn).__module__
    return None if name in (None, "builtins", "__main__") else name


def _run_chunk(fn: Callable, chunk: Sequence[tuple]) -> list:
    return [fn(*args) for args in chunk]


def run_replicates(
    fn: Callable,
    tasks: Sequence[tuple],
    scheduler=None,
    progress: bool = True,
    desc: str = "replicates",
    shared: tuple = (),
) -> list:
    """Call ``fn(*shared, *task)`` for every task and return the results in task order.

    Parameters
    ----------
    fn : callable
        A pure, picklable function (module level, or anything cloudpickle can send).
    tasks : sequence of tuple
        The per-replicate arguments (typically including the replicate's seed).
    scheduler : None, "serial", str or distributed.Client, default None
        Where to run (see :func:`dask_client`); ``"serial"`` runs a plain loop here.
    progress : bool, default True
        A tqdm bar on standard error, advancing as replicates finish.
    desc : str
        The bar's label.
    shared : tuple
        Leading arguments common to every call (sent to each worker once).

    Returns
    -------
    list
        ``[fn(*shared, *task) for task in tasks]``, whatever the number of workers.

    Examples
    --------
    >>> run_replicates(pow, [(2, 3), (3, 2)], scheduler="serial", progress=False)
    [8, 9]
    """
    from tqdm import tqdm

    tasks = list(tasks)
    bar = tqdm(total=len(tasks), desc=desc, unit="rep", disable=not progress, file=sys.stderr, mininterval=1.0)
    with bar:
        if scheduler == "serial":
            out = []
            for args in tasks:
                out.append(fn(*shared, *args))
                bar.update(1)
            return out
        from distributed import as_completed

        warm = [name for name in [module_of(fn)] if name is not None]
        with dask_client(scheduler, warm=warm) as client:
            workers = max(1, len(client.scheduler_info().get("workers", {})))
            # Small chunks: cheap to schedule (a few ms each) and no worker idles long at the end.
            size = max(1, min(10, len(tasks) // (8 * workers) or 1))
            chunks = [tasks[i : i + size] for i in range(0, len(tasks), size)]
            call = functools.partial(fn, *shared) if shared else fn
            if shared:
                [remote] = client.scatter([call], broadcast=True)
            else:
                remote = call
            futures = [client.submit(_run_chunk, remote, chunk, pure=False) for chunk in chunks]
            index = {f.key: i for i, f in enumerate(futures)}
            results: list = [None] * len(futures)
            for future in as_completed(futures):
                results[index[future.key]] = future.result()
                bar.update(len(chunks[index[future.key]]))
    return [r for chunk in results for r in chunk]
