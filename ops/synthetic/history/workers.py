"""Work of the synthetic-data load done in a forked child process, beside the generator and the load.

The generator is pure Python and keeps its interpreter busy; the load's thread mostly waits for PostgreSQL. Work
that needs no more of the generator's state than it has when the work starts (the members' PII, to encrypt) goes
to a child process, which a second core runs beside the generator instead of taking turns with it for the GIL.

Children are forked (``multiprocessing`` "fork" context): they inherit what is imported and set up, with nothing
to import again. They never touch the parent's database connections (shared through the fork: using or closing
one would break the parent's session) and end with ``os._exit`` (multiprocessing's way), which runs no clean-up
that could.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

# The fork rules every forked child of the platform keeps (kombu's after-fork hook hung one), and its error.
from ops.platform.workers import ChildError, no_after_fork_hooks

_CONTEXT = multiprocessing.get_context("fork")
# Seconds between checks that the child is still alive while waiting for its result.
_POLL = 0.5

R = TypeVar("R")


@dataclass(frozen=True)
class _Failed:
    error: str  # the child's formatted traceback


class Deferred(Generic[R]):
    """``work(arg)`` computed in a forked child while the parent goes on; ``ready()`` and ``result()`` collect it.

    ``arg`` reaches the child through the fork (not pickled); the result comes back pickled through a pipe.
    Raises ``ChildError`` from ``result()`` when ``work`` failed.
    """

    def __init__(self, work: Callable[[Any], R], arg: Any, *, name: str) -> None:
        self._receive, send = _CONTEXT.Pipe(duplex=False)
        self._process = _CONTEXT.Process(target=self._run, args=(work, arg, send), name=name, daemon=True)
        with no_after_fork_hooks():
            self._process.start()
        send.close()  # the child's end: the parent keeps only its own

    @staticmethod
    def _run(work: Callable[[Any], R], arg: Any, send: Connection) -> None:  # in the child
        try:
            send.send(work(arg))
        except BaseException:
            send.send(_Failed(traceback.format_exc()))

    def ready(self) -> bool:
        return self._receive.poll()

    def result(self) -> R:
        while not self._receive.poll(_POLL):
            if not self._process.is_alive() and not self._receive.poll():
                raise ChildError(
                    f"{self._process.name} ended (exit code {self._process.exitcode}) without a result"
                )
        value = self._receive.recv()
        self._process.join()
        self._receive.close()
        if isinstance(value, _Failed):
            raise ChildError(f"{self._process.name} failed:\n{value.error}")
        return value  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop the child if it still runs (the load gave up before taking the result)."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(timeout=10)
        self._receive.close()


class _End:
    """The last message of a ``Streamed`` child."""


class Streamed(Generic[R]):
    """The items of ``work(arg)`` (an iterable) made in a forked child, received by iterating in the parent.

    ``arg`` reaches the child through the fork; each item comes back pickled through a pipe as soon as it is
    made, the child waiting while the pipe is full (so it runs ahead of the parent by a pipe's worth). Raises
    ``ChildError`` from the iteration when ``work`` failed or the child died. Iterate once, from one thread.
    """

    def __init__(self, work: Callable[[Any], Iterable[R]], arg: Any, *, name: str) -> None:
        self._receive, send = _CONTEXT.Pipe(duplex=False)
        self._process = _CONTEXT.Process(target=self._run, args=(work, arg, send), name=name, daemon=True)
        with no_after_fork_hooks():
            self._process.start()
        send.close()  # the child's end: the parent keeps only its own

    @staticmethod
    def _run(work: Callable[[Any], Iterable[R]], arg: Any, send: Connection) -> None:  # in the child
        try:
            for item in work(arg):
                send.send(item)
            send.send(_End())
        except BaseException:
            send.send(_Failed(traceback.format_exc()))

    def __iter__(self) -> Iterator[R]:
        while True:
            while not self._receive.poll(_POLL):
                if not self._process.is_alive() and not self._receive.poll():
                    raise ChildError(
                        f"{self._process.name} ended (exit code {self._process.exitcode}) before its last item"
                    )
            value = self._receive.recv()
            if isinstance(value, _End):
                self._process.join()
                return
            if isinstance(value, _Failed):
                raise ChildError(f"{self._process.name} failed:\n{value.error}")
            yield value

    def stop(self) -> None:
        """Stop the child if it still runs (the load gave up before the last item): an iteration going on in
        another thread ends with ``ChildError``."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(timeout=10)

    def close(self) -> None:
        """``stop``, then drop the pipe (once nothing iterates any more)."""
        self.stop()
        self._receive.close()
