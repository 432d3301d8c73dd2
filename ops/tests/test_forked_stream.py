"""``ForkedStream``: items from a forked child, in order, with its failures raised in the parent.

No database: the producers here compute only. (Ingest's reader, the real user, is tested through ingest.)
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from typing import Any

import pytest

from claims.x12.errors import Finding, X12Error
from ops.platform.workers import ChildError, ForkedStream


def _pids(n: int, send: Callable[[Any], None]) -> None:
    for i in range(n):
        send((i, os.getpid()))


def test_items_arrive_in_order_from_another_process() -> None:
    with ForkedStream(_pids, 5, name="test-pids") as stream:
        items = list(stream)
    assert [i for i, _ in items] == [0, 1, 2, 3, 4]
    assert {pid for _, pid in items} != {os.getpid()}
    assert len({pid for _, pid in items}) == 1


def _two_then_x12(_: object, send: Callable[[Any], None]) -> None:
    send("a")
    send("b")
    raise X12Error(Finding(37, "SV1", "SV1-02", "not a number"), "file.837")


def test_the_producers_exception_is_raised_in_the_parent_after_its_items() -> None:
    got = []
    with ForkedStream(_two_then_x12, None, name="test-x12") as stream, pytest.raises(X12Error) as raised:
        for item in stream:
            got.append(item)
    assert got == ["a", "b"]
    # Rebuilt from its parts (X12Error.__reduce__), not from its formatted message.
    assert raised.value.finding == Finding(37, "SV1", "SV1-02", "not a number")
    assert raised.value.file_name == "file.837"


class _Unpicklable(Exception):
    def __init__(self, message: str, handle: object) -> None:
        super().__init__(message)
        self.handle = handle

    def __reduce__(self) -> Any:
        raise TypeError("cannot pickle")


def _raise_unpicklable(_: object, send: Callable[[Any], None]) -> None:
    raise _Unpicklable("member DOE JOHN 1970-01-01", object())


def test_an_exception_that_cannot_cross_becomes_child_error_with_its_type_only() -> None:
    with (
        ForkedStream(_raise_unpicklable, None, name="test-unpicklable") as stream,
        pytest.raises(ChildError) as raised,
    ):
        list(stream)
    assert "_Unpicklable" in str(raised.value)
    assert "DOE" not in str(raised.value)  # its text may quote data (PHI): never carried over


def _die(_: object, send: Callable[[Any], None]) -> None:
    send("first")
    os._exit(3)  # killed without a word (as the OOM killer would)


def test_a_child_that_dies_raises_child_error_with_its_exit_code() -> None:
    got = []
    with ForkedStream(_die, None, name="test-die") as stream, pytest.raises(ChildError, match="exit code 3"):
        for item in stream:
            got.append(item)
    assert got == ["first"]


_sent = multiprocessing.get_context("fork").Value("i", 0)


def _count_big_items(n: int, send: Callable[[Any], None]) -> None:
    for i in range(n):
        send(bytes(1 << 20))  # 1 MiB: far more than the pipe holds
        with _sent.get_lock():
            _sent.value = i + 1


def test_the_child_runs_at_most_an_item_or_two_ahead() -> None:
    _sent.value = 0
    with ForkedStream(_count_big_items, 20, name="test-ahead") as stream:
        items = iter(stream)
        next(items)
        time.sleep(0.5)  # time enough for a child that does not wait to send all 20
        ahead = _sent.value
        rest = sum(1 for _ in items)
    assert 1 <= ahead <= 3
    assert rest == 19


def _forever(_: object, send: Callable[[Any], None]) -> None:
    while True:
        send(bytes(1 << 20))


def test_close_stops_a_child_still_running() -> None:
    stream: ForkedStream[bytes] = ForkedStream(_forever, None, name="test-close")
    next(iter(stream))
    stream.close()
    assert not stream._process.is_alive()
    assert stream._process.exitcode is not None
