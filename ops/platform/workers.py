"""Worker processes for jobs that split their work across CPUs (adjudication's shards, ingest's reader).

``spawn``, not ``fork``: a forked child inherits the parent's open sockets and locks, and Celery's producer pool
(kombu) closes its inherited Redis channel after a fork by reading from it, which hung a forked child for good
(seen under the test suite, with a Celery worker beside it). A spawned child starts clean: it sets Django up
itself, with the parent's settings module (the environment) and the parent's database name (which differs from
the settings' under the test runner, ``test_<name>``).

``ForkedStream`` is the exception: a child that must start at once and share what the parent has loaded (code
sets, settings) is forked, with multiprocessing's after-fork hooks (kombu's among them) kept from running in it,
and it never touches the parent's connections: it opens its own if it needs the database.
"""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.util
import pickle
import traceback
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

from django.db import connections

T = TypeVar("T")
_FORK = multiprocessing.get_context("fork")
# Seconds between checks that a forked child is still alive while the parent waits for its next item.
_POLL_S = 0.5


def process_pool(workers: int, using: str = "default") -> ProcessPoolExecutor:
    """A pool of ``workers`` spawned processes, each set up as a Django process on database ``using``'s name."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_set_up,
        initargs=(using, connections[using].settings_dict["NAME"]),
    )


def _set_up(using: str, name: str) -> None:
    import django

    django.setup()
    from django.conf import settings

    settings.DATABASES[using]["NAME"] = name
    connections[using].settings_dict["NAME"] = name


class ChildError(RuntimeError):
    """A forked child failed with an exception that could not be sent back, or died without a word (killed, out
    of memory). The message holds its exit code or the exception's type, never the exception's text."""


@contextmanager
def no_after_fork_hooks() -> Iterator[None]:
    """Fork with multiprocessing's after-fork registry empty, so the child runs none of its hooks.

    Libraries register hooks there that clean up inherited resources in the child: kombu's closes the Celery app's
    pooled broker connections, and closing a Redis channel reads a reply from the socket it shares with the
    parent; the child hung on that read for good and took the parent's reply with it. A child that touches none of
    the parent's connections needs none of the hooks. The registry is the parent's again once the fork is done.
    """
    saved = multiprocessing.util._afterfork_registry  # type: ignore[attr-defined]
    multiprocessing.util._afterfork_registry = weakref.WeakValueDictionary()  # type: ignore[attr-defined]
    try:
        yield
    finally:
        multiprocessing.util._afterfork_registry = saved  # type: ignore[attr-defined]


class ForkedStream(Generic[T]):
    """The items ``produce(arg, send)`` sends, produced in a forked child while the parent consumes them.

    The child runs beside the parent on another core; the pipe between them holds about one item, so the child
    is at most an item or two ahead and memory stays flat whatever the number of items. ``arg`` reaches the
    child through the fork (not pickled); items come back pickled. Iterating yields the items in order and
    raises in the parent the exception ``produce`` raised, when it pickles (give such exceptions a
    ``__reduce__``), else ``ChildError`` with its type only (its text may quote data). ``close()`` stops a
    child still running; use it as a context manager.
    """

    def __init__(self, produce: Callable[[Any, Callable[[T], None]], None], arg: Any, *, name: str) -> None:
        self._receive, send = _FORK.Pipe(duplex=False)
        self._process = _FORK.Process(target=_stream_run, args=(produce, arg, send), name=name, daemon=True)
        # Frozen across the fork (Python docs, gc.freeze): the child's collections never walk the objects it
        # inherited, which would also copy every page they are on (copy-on-write). The parent's stay as they were.
        gc.freeze()
        try:
            with no_after_fork_hooks():
                self._process.start()
        finally:
            gc.unfreeze()
        send.close()  # the child's end: the parent keeps only its own

    def __iter__(self) -> Iterator[T]:
        while True:
            while not self._receive.poll(_POLL_S):
                if not self._process.is_alive() and not self._receive.poll():
                    raise ChildError(f"{self._process.name} ended (exit code {self._process.exitcode}) early")
            try:
                kind, value = self._receive.recv()
            except EOFError:  # the child's end closed without an "end": it died
                self._process.join(timeout=10)
                raise ChildError(
                    f"{self._process.name} ended (exit code {self._process.exitcode}) early"
                ) from None
            if kind == "item":
                yield value
            elif kind == "end":
                self._process.join()
                return
            elif kind == "raised":
                self._process.join()
                raise value
            else:
                self._process.join()
                raise ChildError(f"{self._process.name} failed with {value}")

    def close(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(timeout=10)
        self._receive.close()

    def __enter__(self) -> ForkedStream[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _stream_run(produce: Callable[[Any, Callable[[Any], None]], None], arg: Any, send: Connection) -> None:
    """In the child: every item, then "end"; or the exception, pickled when it can be, else its type and place."""
    # A producer makes many short-lived objects and few cycles: collect less often than the default 700 allocations
    # (ingest's reader: 24.3 -> 20.9 s of CPU for 100,000 claims).
    gc.set_threshold(50_000, 20, 100)
    try:
        produce(arg, lambda item: send.send(("item", item)))
        send.send(("end", None))
    except BaseException as exc:  # noqa: BLE001 - whatever it is, the parent must hear of it
        try:
            send.send(("raised", pickle.loads(pickle.dumps(exc))))
        except Exception:  # noqa: BLE001 - not picklable: its type and code place only
            frames = traceback.extract_tb(exc.__traceback__)[-2:]
            where = ", ".join(f"{fr.name}:{fr.lineno}" for fr in frames)
            send.send(("failed", f"{type(exc).__name__} at {where}"))
