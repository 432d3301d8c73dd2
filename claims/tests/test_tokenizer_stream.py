"""The streaming tokenizer reads a file a chunk at a time and gives the same segments as reading it whole."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from claims.x12.errors import X12Error
from claims.x12.tokenizer import read_chunks, tokenize, tokenize_chunks


def _whole(raw: bytes) -> list[tuple[int, list[str]]]:
    text = raw.decode("utf-8").removeprefix("\ufeff")
    return [(s.position, s.elements) for s in tokenize(text)]


def _streamed(raw: bytes, size: int) -> list[tuple[int, list[str]]]:
    chunks = read_chunks(io.BytesIO(raw), size=size)
    return [(s.position, s.elements) for s in tokenize_chunks(chunks)]


def _samples(shared_x12: Path) -> list[Path]:
    return sorted(p for p in (shared_x12 / "837P").rglob("*") if p.is_file())


@pytest.mark.parametrize("size", [1, 7, 64, 4096])
def test_every_sample_tokenizes_the_same_whatever_the_chunk_size(shared_x12: Path, size: int) -> None:
    compared = 0
    for path in _samples(shared_x12):
        raw = path.read_bytes()
        try:
            whole = _whole(raw)
        except (X12Error, UnicodeDecodeError):
            with pytest.raises(X12Error):
                _streamed(raw, size)
            continue
        assert _streamed(raw, size) == whole, path.name
        compared += 1
    assert compared >= 10


def test_a_multibyte_character_split_between_chunks_is_decoded_once() -> None:
    raw = b"ISA*00*" + "É".encode() * 3
    assert "".join(read_chunks(io.BytesIO(raw), size=8)) == "ISA*00*ÉÉÉ"


def test_an_undecodable_byte_is_named_by_its_offset_in_the_file() -> None:
    raw = b"ISA*" + b"x" * 20 + b"\xff" + b"y" * 10
    with pytest.raises(X12Error) as caught:
        list(read_chunks(io.BytesIO(raw), size=6))
    assert "offset 24" in str(caught.value)
