"""Split an X12 interchange into segments, reading the delimiters from each ISA.

Rules (ASC X12 005010 envelope, ISA segment): the ISA is 106 characters; the character after "ISA" is the
element separator, ISA11 the repetition separator, ISA16 the component (sub-element) separator, and the
character after ISA16 the segment terminator. Real files bend this: a UTF-8 byte-order mark, CR-only or CRLF
line ends after the terminator, indentation, ISA fields not padded to width, several interchanges per file
each with its own delimiters. The tokenizer tolerates all of those, and reports what it had to tolerate as
warnings; it fails (``X12Error``) only when there is no ISA or the text cannot be decoded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from claims.x12.errors import Finding, X12Error

BOM = "\ufeff"


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
    if element.isalnum() or element.isspace():
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
    """Yield the segments of every interchange in ``text`` in file order.

    Whitespace around segments (line ends, indentation) is dropped. Raises ``X12Error`` when the text does not
    start with an ISA (after whitespace) or an ISA is truncated.
    """
    pos = 0
    n = len(text)
    position = 0
    while True:
        # Skip whitespace between interchanges and at the start of the file.
        while pos < n and text[pos].isspace():
            pos += 1
        if pos >= n:
            return
        if text.startswith(BOM, pos):
            pos += 1
            continue
        if not text.startswith("ISA", pos):
            # Said without the text itself: a file that is not X12 may hold anything, patient data included.
            if position == 0:
                raise X12Error(
                    Finding(1, "", "", f"file does not start with an ISA segment (character {pos + 1})"),
                    file_name,
                )
            raise X12Error(
                Finding(
                    position + 1,
                    "",
                    "",
                    f"text after the last IEA is not an interchange (character {pos + 1})",
                ),
                file_name,
            )
        position += 1
        delimiters, body_start = _read_isa(text, pos, position, file_name)
        isa_text = text[pos : body_start - 1]
        yield Segment(position, isa_text.split(delimiters.element), delimiters)
        # The interchange runs to its IEA; the next ISA (if any) re-reads delimiters.
        end = _find_iea_end(text, body_start, delimiters)
        body = text[body_start:end]
        for raw in body.split(delimiters.segment):
            raw = raw.strip()
            if not raw:
                continue
            position += 1
            yield Segment(position, raw.split(delimiters.element), delimiters)
        pos = end


def _find_iea_end(text: str, start: int, delimiters: Delimiters) -> int:
    """Index just past the IEA segment terminator after ``start``, or len(text) when there is no IEA."""
    idx = start
    sep = delimiters.segment
    while True:
        hit = text.find("IEA" + delimiters.element, idx)
        if hit < 0:
            return len(text)
        # Only an IEA at the start of a segment counts (after a terminator and optional whitespace).
        back = hit - 1
        while back >= start and text[back].isspace():
            back -= 1
        if back < start or text[back] == sep:
            term = text.find(sep, hit)
            return len(text) if term < 0 else term + 1
        idx = hit + 3
