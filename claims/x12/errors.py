"""Errors and warnings that point at a place in an X12 file."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem at one place in a file.

    ``position`` is the 1-based segment number in the file (0 when the file could not be split into segments),
    ``segment`` the segment id (``CLM``), ``element`` the element reference (``CLM05-1``), or "" when the
    finding concerns the whole segment.
    """

    position: int
    segment: str
    element: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def __str__(self) -> str:
        where = f"segment {self.position}"
        if self.segment:
            where += f" ({self.segment})"
        if self.element:
            where += f", element {self.element}"
        return f"{where}: {self.message}"


class X12Error(Exception):
    """The file cannot be mapped onto claims; nothing from it is loaded.

    Carries the ``Finding`` that says where; ``str()`` reads "<file>: segment N (SEG), element E: message".
    """

    def __init__(self, finding: Finding, file_name: str = "") -> None:
        self.finding = finding
        self.file_name = file_name
        super().__init__(str(self))

    def __reduce__(self) -> tuple[type[X12Error], tuple[Finding, str]]:
        # Rebuilt from its parts when pickled (ingest's reader process sends it to the loading one), not from
        # ``args``, which holds the formatted message.
        return (X12Error, (self.finding, self.file_name))

    def __str__(self) -> str:
        prefix = f"{self.file_name}: " if self.file_name else ""
        return f"{prefix}{self.finding}"
