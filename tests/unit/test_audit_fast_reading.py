"""The pieces `audit verify` reads and hashes a store fast with: a tree grown a block of 32 leaves at
a time must have the roots of RFC 9162's, and reading ahead in a thread must neither lose an error
nor outlive the reader."""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Iterator

import pytest

from projections.audit.reading import Prefetched
from projections.audit.verify import _block_roots, _Growing
from tools.verify_export import Frontier, root


def leaves(count: int) -> list[bytes]:
    return [hashlib.sha256(b"leaf %d" % n).digest() for n in range(count)]


def test_a_tree_grown_a_block_at_a_time_has_at_every_size_the_root_of_one_grown_leaf_by_leaf() -> None:
    chunks = random.Random(12)
    for_each_size = leaves(300)
    grown, reference = _Growing(), Frontier()
    at = 0
    while at < len(for_each_size):
        chunk = for_each_size[at : at + chunks.choice([1, 2, 7, 31, 32, 33, 64, 100])]
        for leaf in chunk:  # the reference's root after each leaf of the chunk, ours after the chunk
            reference.append(leaf)
        grown.add(chunk)
        at += len(chunk)
        assert (grown.size, grown.root()) == (reference.size, reference.root()), at
    assert _Growing().root() == Frontier().root()


def test_each_block_root_is_the_root_of_its_32_leaves() -> None:
    many = leaves(32 * 5)
    assert _block_roots(many) == [root(many[n : n + 32]) for n in range(0, len(many), 32)]
    assert _block_roots(many + leaves(31), len(many)) == _block_roots(many)  # the first `count` only
    grown = _Growing()
    assert grown.add(many[:40]) == [root(many[:32])] and len(grown.pending) == 8
    assert grown.add(many[40:64]) == [root(many[32:64])] and grown.pending == []


def test_an_error_met_reading_ahead_is_raised_to_the_reader_after_what_was_read_before_it() -> None:
    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise RuntimeError("the database went away")

    ahead = Prefetched(failing())
    assert [next(ahead), next(ahead)] == [1, 2]
    with pytest.raises(RuntimeError, match="went away"):
        next(ahead)
    ahead.close()


def test_a_reader_that_stops_early_stops_the_thread_reading_ahead_and_closes_what_it_read() -> None:
    closed = threading.Event()

    def endless() -> Iterator[int]:
        try:
            n = 0
            while True:
                n += 1
                yield n
        finally:
            closed.set()

    ahead = Prefetched(endless(), depth=2)
    assert next(ahead) == 1
    time.sleep(0.05)  # the thread fills the queue and waits
    ahead.close()
    assert closed.is_set()
    assert not any(t.name == "audit-reading" and t.is_alive() for t in threading.enumerate())


def test_a_reader_closed_before_it_read_anything_starts_no_thread_and_closes_the_source() -> None:
    closed = threading.Event()

    def source() -> Iterator[int]:
        try:
            yield 1
        finally:
            closed.set()

    items = source()
    next(items)  # (started, so that closing it runs its finally)
    Prefetched(items).close()
    assert closed.is_set()
    assert list(Prefetched(iter([4, 5, 6]))) == [4, 5, 6]
