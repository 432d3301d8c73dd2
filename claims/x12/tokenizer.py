"""Split an X12 interchange into segments, reading the delimiters from each ISA.

Rules (ASC X12 005010 envelope, ISA segment): the ISA is 106 characters; the character after "ISA" is the
element separator, ISA11 the repetition separator, ISA16 the component (sub-element) separator, and the
character after ISA16 the segment terminator. Real files bend this: a UTF-8 byte-order mark, CR-only or CRLF
line ends after the terminator, indentation, ISA fields not padded to width, several interchanges per file
each with its own delimiters. The tokenizer tolerates all of those, and reports what it had to tolerate as
warnings; it fails (``X12Error``) only when there is no ISA or the text cannot be decoded.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from claims.x12.errors import Finding, X12Error

BOM = "\ufeff"
# Characters dropped around segments (line ends, indentation). Not ``str.isspace()``: that also counts 0x1C-0x1F,
# the information separators X12 allows as delimiters (ASC X12 005010 basic/extended character sets).
X12_WHITESPACE = " \t\r\n\v\f"
CHUNK_BYTES = 1 << 20
# Longer than any ISA, padded (106) or not: a longer one is not an ISA.
ISA_MAX_CHARS = 4096
# Control characters (the parser refuses them in stored elements; PostgreSQL refuses NUL in text).
_CONTROL = re.compile("[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: str
    component: str
    repetition: str  # "" when ISA11 is not a separator (4010-style "U")
    segment: str


@dataclass(slots=True)
class Segment:
    """One segment: ``elements[0]`` is the segment id, ``elements[1]`` is element 01, and so on."""

    position: int  # 1-based segment number in the file
    elements: list[str]
    delimiters: Delimiters
    # True when the segment's text holds no control character (0x00-0x1F, 0x7F): then none of its elements does,
    # and the parser skips checking each one. False (check each) when unknown or when a delimiter is one.
    clean: bool = False

    @property
    def id(self) -> str:
        return self.elements[0]

    def get(self, index: int) -> str:
        """Element ``index`` (1-based, as in ``CLM01``), "" when absent."""
        return self.elements[index] if index < len(self.elements) else ""

    def components(self, index: int) -> list[str]:
        """Components of composite element ``index`` (``SV1-01`` -> ``["HC", "99213", "25"]``)."""
        value = self.get(index)
        return value.split(self.delimiters.component) if value else []


def decode(raw: bytes, file_name: str = "") -> str:
    """Bytes to text. X12 is ASCII (basic or extended character set); UTF-8 is accepted, a BOM is dropped.

    Raises ``X12Error`` at position 0 when the bytes are not valid UTF-8.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise X12Error(
            Finding(0, "", "", f"file is not ASCII/UTF-8 text: undecodable byte at offset {exc.start}"),
            file_name,
        ) from None
    return text[1:] if text.startswith(BOM) else text


def _read_isa(text: str, start: int, position: int, file_name: str) -> tuple[Delimiters, int]:
    """Delimiters of the ISA that begins at ``text[start]``, and the index just past its terminator."""
    if len(text) < start + 4:
        raise X12Error(
            Finding(position, "ISA", "", "file ends inside the ISA segment (truncated)"), file_name
        )
    element = text[start + 3]
    if element.isalnum() or element in X12_WHITESPACE:
        raise X12Error(Finding(position, "ISA", "", f"invalid element separator {element!r}"), file_name)
    # Walk 16 element separators rather than trusting fixed widths: some senders do not pad ISA fields.
    idx = start + 3
    for _ in range(15):
        idx = text.find(element, idx + 1)
        if idx < 0:
            raise X12Error(
                Finding(position, "ISA", "", "ISA has fewer than 16 elements (truncated)"), file_name
            )
    fields = text[start:idx].split(element)
    if len(text) < idx + 3:
        raise X12Error(
            Finding(position, "ISA", "ISA16", "file ends inside the ISA segment (truncated)"), file_name
        )
    component = text[idx + 1]
    segment = text[idx + 2]
    repetition = fields[11] if len(fields) > 11 else ""
    if len(repetition) != 1 or repetition.isalnum() or repetition in (element, component, segment):
        # ISA11 = "U" is the 4010 standards identifier; in 5010 it is the repetition separator.
        repetition = ""
    return Delimiters(element=element, component=component, repetition=repetition, segment=segment), idx + 3


def tokenize(text: str, file_name: str = "") -> Iterator[Segment]:
    """Yield the segments of every interchange in ``text`` in file order (``tokenize_stream`` over one chunk)."""
    return tokenize_chunks(iter((text,)), file_name)


def read_chunks(stream: BinaryIO, file_name: str = "", *, size: int = CHUNK_BYTES) -> Iterator[str]:
    """Decode ``stream`` as UTF-8, ``size`` bytes at a time, dropping a leading byte-order mark.

    Memory stays at about one chunk whatever the file's size. Raises ``X12Error`` at position 0, naming the byte
    offset, when the bytes are not valid UTF-8 (X12 is ASCII, basic or extended character set).
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    first = True
    while True:
        data = stream.read(size)
        pending = len(decoder.getstate()[0])
        try:
            text = decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise X12Error(
                Finding(
                    0,
                    "",
                    "",
                    f"file is not ASCII/UTF-8 text: undecodable byte at offset {offset - pending + exc.start}",
                ),
                file_name,
            ) from None
        offset += len(data)
        if first and text:
            first = False
            if text.startswith(BOM):
                text = text[1:]
        if text:
            yield text
        if not data:
            return


def tokenize_stream(stream: BinaryIO, file_name: str = "") -> Iterator[Segment]:
    """Yield the segments of every interchange in the binary ``stream``, reading it a chunk at a time."""
    return tokenize_chunks(read_chunks(stream, file_name), file_name)


def tokenize_chunks(chunks: Iterator[str], file_name: str = "") -> Iterator[Segment]:
    """Yield the segments of every interchange in the text made of ``chunks``, in file order.

    Whitespace around segments (line ends, indentation) is dropped; whitespace means X12_WHITESPACE, not
    ``str.isspace`` (which counts 0x1C-0x1F, characters X12 allows as delimiters). Only about one chunk is held
    at a time. Raises ``X12Error`` when the text does not start with an ISA (after whitespace), an ISA is
    truncated, or text after an IEA is not another interchange.
    """
    buf = ""
    pos = 0
    consumed = 0  # characters of the file before buf[0]
    position = 0
    eof = False

    def more() -> bool:
        """Append the next chunk to the unread rest of ``buf``; False at the end of the text."""
        nonlocal buf, pos, consumed, eof
        if eof:
            return False
        chunk = next(chunks, None)
        if chunk is None:
            eof = True
            return False
        consumed += pos
        buf = buf[pos:] + chunk
        pos = 0
        return True

    while True:
        # Between interchanges: skip whitespace and byte-order marks.
        while True:
            while pos < len(buf) and (buf[pos] in X12_WHITESPACE or buf[pos] == BOM):
                pos += 1
            if pos + 3 <= len(buf) or not more():
                break
        if pos >= len(buf):
            return
        if not buf.startswith("ISA", pos):
            # Said without the text itself: a file that is not X12 may hold anything, patient data included.
            if position == 0:
                raise X12Error(
                    Finding(
                        1, "", "", f"file does not start with an ISA segment (character {consumed + pos + 1})"
                    ),
                    file_name,
                )
            raise X12Error(
                Finding(
                    position + 1,
                    "",
                    "",
                    f"text after the last IEA is not an interchange (character {consumed + pos + 1})",
                ),
                file_name,
            )
        position += 1
        while True:
            # An ISA is 106 characters; unpadded ones are shorter, so read until it parses or the text ends.
            try:
                delimiters, body_start = _read_isa(buf, pos, position, file_name)
                break
            except X12Error as exc:
                # Only a truncated ISA can be completed by the next chunk; give up past any plausible ISA length.
                truncated = "truncated" in exc.finding.message
                if not truncated or len(buf) - pos > ISA_MAX_CHARS or not more():
                    raise
        yield Segment(position, buf[pos : body_start - 1].split(delimiters.element), delimiters)
        pos = body_start
        element, terminator = delimiters.element, delimiters.segment
        # The interchange runs to its IEA; the next ISA (if any) re-reads delimiters.
        in_interchange = True
        while in_interchange:
            last = buf.rfind(terminator, pos)
            if last < 0:
                if more():
                    continue
                # No terminator before the end of the text: the rest is the last (unterminated) segment.
                raw = buf[pos:].strip(X12_WHITESPACE)
                pos = len(buf)
                if raw:
                    position += 1
                    yield Segment(position, raw.split(element), delimiters)
                return
            start = pos
            pos = last + 1
            for raw in buf[start:last].split(terminator):
                start += len(raw) + 1
                raw = raw.strip(X12_WHITESPACE)
                if not raw:
                    continue
                position += 1
                elements = raw.split(element)
                yield Segment(position, elements, delimiters, _CONTROL.search(raw) is None)
                if elements[0] == "IEA":
                    pos = start
                    in_interchange = False
                    break
