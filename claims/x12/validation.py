"""Implementation-guide validation of 837P files with pyx12, and the 999 acknowledgment it writes.

``validate_837(path)`` checks one file against the ASC X12 005010X222A1 implementation guide (Health Care
Claim: Professional) using pyx12 4.0's map, and returns a ``ValidationReport``: the outcome as the 999 states
it (AK9/IK5 codes A, E, R -> "accepted", "accepted_with_errors", "rejected"), the errors with their places,
and the 999 text itself. It never raises for a bad file: pyx12 is called defensively.

pyx12 is handed a normalised temporary copy of the file, never the original, because of what it cannot read
(measured on the shared samples, see ../shared/data/x12/SOURCES.md):

* It decodes as ASCII: a UTF-8 byte-order mark raises ``UnicodeDecodeError``. The BOM is dropped.
* It stops at the first empty segment and does not strip indentation (OopFactory samples indent segments and
  end lines with CRLF). Each segment is re-written on its own line with surrounding whitespace removed; empty
  segments are dropped (each is reported as an ``empty_segment`` error). Text after the last terminator (a
  file cut inside a segment) is reported as ``unterminated_segment`` and left out, so pyx12's trailer checks
  report the truncation instead of pyx12 tripping over half a GE or IEA.
* It has maps for 005010X222A1 only; files labelled ``005010X222`` (the base guide) or ``005010X222A2`` (a later
  errata release, used by the LinuxForHealth samples) make it raise ``EngineError: Map not found``.
  Decision: GS08/ST03 are rewritten to 005010X222A1 in the copy, the file is validated against A1, and a
  ``version_substituted`` error records the substitution, so such a file is at best "accepted_with_errors".
  Rationale: the A1 rules are what we can check; silently accepting an unchecked label would overstate the
  result. The 999's AK1-03/AK2-03 then name 005010X222A1, the guide actually applied.
* On malformed envelopes (a GE with no GS, a second IEA, a non-numeric GE01) it raises bare ``IndexError``,
  ``TypeError``, ``ValueError`` and the like. Any exception becomes outcome "rejected", ``crashed=True`` and a ``crash``
  error naming the exception; ``ack_999`` is then "".
* It validates any transaction it has a map for: an 835 passes as "valid". Files whose groups are not all
  GS01=HC / ST01=837 / GS08 one of 005010X222, -A1, -A2 are rejected (``not_837p``) before pyx12 is called, with no 999.
* The console script's exit status does not reflect validity; the outcome is read from the 999 (TA1-04,
  IK5-01, AK9-01), and an outcome of "accepted" is downgraded when pyx12's error tree holds any error.

Positions are 1-based segment numbers in the file, ISA = 1, empty segments not counted (the same numbering as
``claims.x12.tokenizer``). For interchange/group/transaction-level errors pyx12 reports the trailer segment
(IEA/GE/SE) when it was seen, else the header.

Speed (pyx12 4.0, one core, measured here on ``generate_demo_837`` files, 2.3 lines per claim): ~0.12 s
fixed cost per file (map loading), then 430-520 claims/s: 4.4-4.7 s for 2,000 claims (STACK.md's figure),
191 s for 100,000 claims (43 MB, 20 transaction sets) at 100 MB peak memory. Run it off the request path.
"""

from __future__ import annotations

import io
import logging
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

logger = logging.getLogger(__name__)

# pyx12 logs every validation error at ERROR level, element values included (member ids, names: PHI). The
# report carries the same information in a controlled place, so its loggers are silenced.
logging.getLogger("pyx12").setLevel(logging.CRITICAL)

ACCEPTED = "accepted"
ACCEPTED_WITH_ERRORS = "accepted_with_errors"
REJECTED = "rejected"

TARGET_VERSION = "005010X222A1"
# Labels of the same transaction that pyx12 has no map for; validated as X222A1 (see module docstring).
SUBSTITUTED_VERSIONS = frozenset({"005010X222", "005010X222A2"})
_ACCEPTED_VERSIONS = SUBSTITUTED_VERSIONS | {TARGET_VERSION}
_BOM = b"\xef\xbb\xbf"
_ISA_LEN = 106  # ISA is fixed-length: 105 characters plus the segment terminator (X12.5 envelope).


@dataclass(frozen=True)
class ValidationReport:
    """Result of ``validate_837``.

    ``outcome``: one of ``claims.models.ValidationOutcome`` values "accepted", "accepted_with_errors",
    "rejected". ``errors``: list of ``{"position": int | None, "segment": str, "element": str, "code": str,
    "message": str}``; ``code`` is ``"<999 element>:<code>"`` for pyx12 findings (``IK304:8`` segment syntax,
    ``IK403:7`` element, ``IK502:4`` transaction, ``AK905:..`` group, ``TA105:...`` interchange; code lists
    of the 999, 005010X231A1) or a lowercase word for this module's own checks (``crash``, ``not_x12``,
    ``not_837p``, ``non_ascii``, ``empty_segment``, ``unterminated_segment``,
    ``version_substituted``). ``ack_999``: the 999 text
    pyx12 wrote ("" when it crashed or was not called). ``crashed``: pyx12 raised.
    """

    outcome: str
    errors: list[dict[str, Any]] = field(default_factory=list)
    ack_999: str = ""
    crashed: bool = False

    @property
    def error_count(self) -> int:
        return len(self.errors)


def _without_value(err: dict[str, Any]) -> str:
    """pyx12's message with the element's value (its ``err_val``) cut out wherever pyx12 wrote it in
    (``len("...")``, ``invalid date (...)``, ``(...) is not a valid code``): a finding names the segment position
    and element, never the value, which may be a name or a date of birth (45 CFR 164.312(b))."""
    message = str(err.get("err_str", ""))
    value = str(err.get("err_val") or "")
    if value:
        message = message.replace(value, "…")
    # A segment out of place is named with its first element and no err_val ("Segment N3*<street> not found",
    # pyx12 map_walker): the element goes too.
    return _NOT_FOUND.sub(r"Segment \1*… not found.", message)


_NOT_FOUND = re.compile(r"^Segment ([A-Z][A-Z0-9]{1,2})\*.*? not found\.(?=  Started at )", re.DOTALL)


def _error(position: int | None, segment: str, element: str, code: str, message: str) -> dict[str, Any]:
    return {"position": position, "segment": segment, "element": element, "code": code, "message": message}


# The error shape both validators report (``ValidationReport.errors``).
validation_error = _error


@dataclass
class _Prepared:
    """What normalising found; the normalised copy itself is written to the file given to ``_prepare``."""

    # Segment id by position, for envelope segments only: pyx12 reports interchange/group/transaction errors
    # with a position but no segment id. Kept small so a 100,000-claim file costs no per-segment memory.
    envelope_ids: dict[int, str] = field(default_factory=dict)
    notes: list[dict[str, Any]] = field(default_factory=list)
    fatal: bool = False  # do not call pyx12; the notes say why
    # Delimiters read from the ISA (X12.5 fixed offsets); "" when the file has no complete ISA.
    element_sep: str = ""
    terminator: str = ""
    component_sep: str = ""


_ENVELOPE = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})
_CHUNK = 1 << 20  # bytes read at a time: the file is never held whole


@dataclass(frozen=True, slots=True)
class RawSegment:
    """One non-empty segment of a file as ``read_segments`` normalised it.

    ``position``: 1-based, ISA = 1, empty segments not counted. ``text``: the segment without its terminator
    and surrounding whitespace, GS/ST as the envelope check left them. ``start``/``end``: byte offsets in the
    file of the piece it came from, ``start`` just after the previous terminator (or the ISA's first byte),
    ``end`` just past its own terminator, so ``[start, end)`` of consecutive segments tile the file.
    """

    position: int
    seg_id: str
    text: str
    start: int
    end: int


class BinarySource(Protocol):
    """What the segment reader reads from: an open binary file, or anything with its ``read``."""

    def read(self, size: int = -1, /) -> bytes: ...


# Checks a GS or ST segment for the transaction set a validator expects: may rewrite ``elements`` (a version
# label pyx12 has no map for, an element the IG does not use), may add notes, returns the error that makes the
# file not of that kind, or None.
EnvelopeCheck = Callable[[str, list[str], int, list[dict[str, Any]]], "dict[str, Any] | None"]


def _prepare(raw: bytes, copy: IO[str]) -> _Prepared:
    """Normalise an 837P for pyx12 (``prepare_for_pyx12`` with the 837P's GS/ST check)."""
    return _prepare_stream(io.BytesIO(raw), copy)


def _prepare_stream(source: BinarySource, copy: IO[str]) -> _Prepared:
    """``_prepare`` reading ``source`` in chunks."""
    out = _Prepared()
    for segment in read_837_segments(source, out):
        if not out.fatal:
            copy.write(segment.text)
            copy.write(segment_joiner(out.terminator))
    return out


def read_837_segments(source: BinarySource, out: _Prepared) -> Iterator[RawSegment]:
    """``read_segments`` with the 837P's GS/ST check (``_check_version``): what pyx12 is handed."""
    return read_segments(source, out, check=_check_version, no_group=_NO_837_GROUP)


_NO_837_GROUP = _error(
    None, "GS", "", "not_837p", "no functional group (GS) segment: truncated, or not an 837P"
)


def segment_joiner(terminator: str) -> str:
    """What follows each segment in the copy pyx12 reads: the terminator and a newline.

    pyx12 strips CR/LF before a segment; when the terminator is itself a newline, a second one would make an
    empty segment, so it stands alone.
    """
    return terminator if terminator in "\r\n" else terminator + "\n"


def normalise_piece(piece: str) -> str:
    """A segment's text as pyx12 is handed it: surrounding whitespace removed (OopFactory indents segments and
    ends lines with CRLF; pyx12 does not strip indentation)."""
    return piece.strip()


def prepare_for_pyx12(
    raw: bytes, copy: IO[str], *, check: EnvelopeCheck, no_group: dict[str, Any]
) -> _Prepared:
    """Normalise ``raw`` into ``copy`` for pyx12: no BOM, one segment per line, GS/ST as ``check`` leaves them.

    Shared by the 837P and 835 validators. ``no_group`` is the error of a file without a GS segment.
    ``copy`` is left positioned at its end; nothing useful is in it when the result is ``fatal``.
    """
    out = _Prepared()
    for segment in read_segments(io.BytesIO(raw), out, check=check, no_group=no_group):
        if not out.fatal:
            copy.write(segment.text)
            copy.write(segment_joiner(out.terminator))
    return out


def read_segments(
    source: BinarySource, out: _Prepared, *, check: EnvelopeCheck, no_group: dict[str, Any]
) -> Iterator[RawSegment]:
    """Yield the non-empty segments of the X12 file ``source`` (binary, read from its current position in
    ``_CHUNK``-byte pieces, never whole), normalised for pyx12, recording what normalising found in ``out``.

    ``out`` receives the delimiters from the ISA, notes (``not_x12``, ``empty_segment``,
    ``unterminated_segment``, ``non_ascii``, and what ``check`` adds for GS/ST segments) and ``fatal`` when
    pyx12 must not be called; notes about the whole file (``no_group``, the first error ``check`` returned)
    are added once the last segment has been yielded. Segments after a fatal one are still yielded (positions
    stay right). A text that is not X12 yields nothing. Never raises for content; ``OSError`` from reading.
    """
    head = source.read(max(_CHUNK, len(_BOM)))
    offset = 0
    if head.startswith(_BOM):
        head, offset = head[len(_BOM) :], len(_BOM)
    # latin-1 maps every byte to one character (so character offsets are byte offsets); non-ASCII is
    # reported per segment below.
    text = head.decode("latin-1")
    while len(text.lstrip()) < _ISA_LEN:
        # Only a file that starts with a long run of whitespace needs more than one read for its ISA.
        more = source.read(_CHUNK)
        if not more:
            break
        text += more.decode("latin-1")
    stripped = text.lstrip()
    offset += len(text) - len(stripped)
    text = stripped
    if not text.startswith("ISA") or len(text) < _ISA_LEN:
        out.notes.append(_error(1, "", "", "not_x12", "file does not start with a complete ISA segment"))
        out.fatal = True
        return
    element_sep, terminator = text[3], text[_ISA_LEN - 1]
    isa_fields = text[: _ISA_LEN - 1].split(element_sep)
    if element_sep.isalnum() or terminator.isalnum() or len(isa_fields) != 17:
        # pyx12 takes the delimiters from fixed offsets: an unpadded ISA would be misread throughout.
        out.notes.append(
            _error(1, "ISA", "", "not_x12", "ISA is not the fixed 106 characters with 16 elements (X12.5)")
        )
        out.fatal = True
        return
    out.element_sep, out.terminator, out.component_sep = element_sep, terminator, text[_ISA_LEN - 2]

    count = 0
    saw_gs = False
    not_kind: dict[str, Any] | None = None
    buffer, base, start = text, offset, 0  # base: file offset of buffer[0]; start: next piece in buffer
    while True:
        end = buffer.find(terminator, start)
        if end < 0:
            more = source.read(_CHUNK)
            if more:
                buffer, base, start = buffer[start:] + more.decode("latin-1"), base + start, 0
                continue
            piece, is_last, piece_end = buffer[start:], True, base + len(buffer)
        else:
            piece, is_last, piece_end = buffer[start:end], False, base + end + 1
        piece_start = base + start
        start = end + 1
        seg = normalise_piece(piece)
        if not seg:
            if not is_last:
                out.notes.append(
                    _error(count or None, "", "", "empty_segment", "empty segment dropped after this one")
                )
                continue
            break
        # Only the id is needed for most segments; splitting every one would double the cost of a read.
        seg_id = seg.partition(element_sep)[0]
        position = count + 1
        if is_last:
            # Text after the last terminator: the file was cut inside a segment. Not handed to pyx12 (it
            # ignores unterminated text too), so its trailer checks report what is missing.
            out.notes.append(
                _error(
                    position, seg_id[:3], "", "unterminated_segment", "file ends inside a segment (truncated)"
                )
            )
            break
        if not seg.isascii():
            # X12 basic/extended character sets are ASCII subsets; pyx12 would raise UnicodeDecodeError.
            bad = next(ch for ch in seg if not ch.isascii())
            out.notes.append(_error(position, seg_id, "", "non_ascii", f"non-ASCII byte 0x{ord(bad):02x}"))
            out.fatal = True
        if seg_id in ("GS", "ST"):
            saw_gs = saw_gs or seg_id == "GS"
            elements = seg.split(element_sep)
            not_kind = not_kind or check(seg_id, elements, position, out.notes)
            seg = element_sep.join(elements)
        if seg_id in _ENVELOPE:
            out.envelope_ids[position] = seg_id
        count += 1
        yield RawSegment(position, seg_id, seg, piece_start, piece_end)
    if not saw_gs:
        not_kind = not_kind or no_group
    if not_kind is not None:
        out.notes.append(not_kind)
        out.fatal = True


def _check_version(
    seg_id: str, elements: list[str], position: int, notes: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """A GS or ST segment of ``_prepare``: the error when it is not an 837P functional group / transaction set.

    A declared version pyx12 has no map for (``SUBSTITUTED_VERSIONS``) is replaced in ``elements`` by
    ``TARGET_VERSION`` (GS08 and ST03 must agree), with a note on GS08 only.
    """
    if seg_id == "GS":
        version = elements[8] if len(elements) > 8 else ""
        if elements[1:2] != ["HC"] or version not in _ACCEPTED_VERSIONS:
            return _error(
                position,
                "GS",
                "GS08" if elements[1:2] == ["HC"] else "GS01",
                "not_837p",
                f"functional group is {elements[1] if len(elements) > 1 else '?'}/{version or '?'}; "
                f"expected HC/{TARGET_VERSION} (837P)",
            )
        if version in SUBSTITUTED_VERSIONS:
            notes.append(
                _error(
                    position,
                    "GS",
                    "GS08",
                    "version_substituted",
                    f"declared {version}; pyx12 has no map for it, validated against {TARGET_VERSION}",
                )
            )
            elements[8] = TARGET_VERSION
        return None
    if elements[1:2] != ["837"]:
        return _error(position, "ST", "ST01", "not_837p", f"transaction set {elements[1:2]} is not an 837")
    if len(elements) > 3 and elements[3] in SUBSTITUTED_VERSIONS:
        # Reported once, on GS08; ST03 must agree with it or pyx12 reports a mismatch.
        elements[3] = TARGET_VERSION
    return None


def _element_ref(seg_id: str, ele: dict[str, Any]) -> str:
    """``HI01-2`` style reference from pyx12's element error node."""
    ref = f"{seg_id}{int(ele['ele_pos']):02d}" if ele.get("ele_pos") else seg_id
    if ele.get("subele_pos"):
        ref += f"-{ele['subele_pos']}"
    return ref


def _collect_errors(doc: dict[str, Any], envelope_ids: dict[int, str]) -> list[dict[str, Any]]:
    """Flatten pyx12's JSON error tree (errh_json) into error dicts, in file order."""
    return collect_pyx12_errors(doc, envelope_ids)[0]


def collect_pyx12_errors(
    doc: dict[str, Any], envelope_ids: dict[int, str]
) -> tuple[list[dict[str, Any]], bool]:
    """Flatten pyx12's JSON error tree (errh_json) into error dicts in file order; and whether every group and
    transaction set was closed with ack code A or E and at least one transaction set was seen."""

    def seg_at(position: int | None) -> str:
        return envelope_ids.get(position, "") if position is not None else ""

    errors: list[dict[str, Any]] = []
    acks_ok = True
    transactions = 0
    for isa in doc.get("interchanges", []):
        pos = isa.get("cur_line")
        for err in isa.get("errors", []):
            errors.append(_error(pos, seg_at(pos), "", f"TA105:{err['err_cde']}", err["err_str"]))
        for gs in isa.get("groups", []):
            pos = gs.get("cur_line")
            acks_ok &= gs.get("ack_code") in ("A", "E")
            for err in gs.get("errors", []):
                errors.append(_error(pos, seg_at(pos), "", f"AK905:{err['err_cde']}", err["err_str"]))
            for st in gs.get("transactions", []):
                transactions += 1
                pos = st.get("cur_line")
                acks_ok &= st.get("ack_code") in ("A", "E")
                for err in st.get("errors", []):
                    errors.append(_error(pos, seg_at(pos), "", f"IK502:{err['err_cde']}", err["err_str"]))
                for seg in st.get("segments", []):
                    pos = seg.get("cur_line")
                    seg_id = seg.get("seg_id") or ""
                    for err in seg.get("errors", []):
                        errors.append(_error(pos, seg_id, "", f"IK304:{err['err_cde']}", _without_value(err)))
                    for ele in seg.get("elements", []):
                        ref = _element_ref(seg_id, ele)
                        for err in ele.get("errors", []):
                            errors.append(
                                _error(pos, seg_id, ref, f"IK403:{err['err_cde']}", _without_value(err))
                            )
    errors.sort(key=lambda e: e["position"] if e["position"] is not None else 0)
    return errors, acks_ok and transactions > 0


def outcome_from_999(ack: str) -> str:
    """Outcome stated by a 999 text: "rejected" when any TA1-04, IK5-01 or AK9-01 is R (or there is no AK9);
    "accepted_with_errors" when any is E, P, M, W or X; else "accepted".

    Codes: 005010X231A1 999 implementation guide, AK901/IK501 (A accepted, E accepted with errors, M/W/X
    rejected-in-part variants, P partially accepted, R rejected); TA104 (A, E, R) from X12.56.
    """
    codes: set[str] = set()
    saw_ak9 = False
    for raw in ack.split("~"):
        elements = raw.strip().split("*")
        if elements[0] == "AK9" and len(elements) > 1:
            saw_ak9 = True
            codes.add(elements[1])
        elif elements[0] == "IK5" and len(elements) > 1:
            codes.add(elements[1])
        elif elements[0] == "TA1" and len(elements) > 4:
            codes.add(elements[4])
    if not saw_ak9 or "R" in codes:
        return REJECTED
    if codes - {"A"}:
        return ACCEPTED_WITH_ERRORS
    return ACCEPTED


def _run_pyx12(source: IO[str]) -> tuple[str, dict[str, Any]]:
    """Validate ``source`` (read from its start) with pyx12; returns (999 text, errh_json document)."""
    _valid, ack, doc = run_pyx12(source)
    return ack, doc


def run_pyx12(source: IO[str]) -> tuple[bool, str, dict[str, Any]]:
    """Validate ``source`` (read from its start) with pyx12 (its map is chosen by GS08); returns (its valid
    flag, 999 text, errh_json document). Raises whatever pyx12 raises: callers record that as an outcome.
    """
    import json

    # Imported here: pyx12 import is not free and most callers of this module's helpers never need it.
    import pyx12.params
    import pyx12.x12n_document

    param = pyx12.params.params()
    fd_999 = io.StringIO()
    fd_json = io.StringIO()
    valid = pyx12.x12n_document.x12n_document(
        param=param,
        src_file=source,
        fd_997=fd_999,
        fd_html=None,
        fd_xmldoc=None,
        fd_json=fd_json,
    )
    raw_json = fd_json.getvalue()
    doc = json.loads(raw_json) if raw_json else {}
    return bool(valid), fd_999.getvalue(), doc


def validate_837(path: Path) -> ValidationReport:
    """Validate the 837P file at ``path`` against 005010X222A1 with pyx12 and build its 999.

    Never raises for file content: unreadable, non-837P or malformed files give outcome "rejected".
    Raises ``OSError`` only when ``path`` cannot be read. See the module docstring for the normalisation
    applied before pyx12 sees the file and for the meaning of error codes and positions.
    """
    # The normalised copy goes to a temporary file (in memory up to 1 MB): the file is read in chunks and
    # pyx12 streams the copy, so a large file is never held whole.
    with (
        Path(path).open("rb") as source,
        tempfile.SpooledTemporaryFile(max_size=1 << 20, mode="w+", encoding="ascii", newline="") as copy,
    ):
        prepared = _prepare_stream(source, copy)
        if prepared.fatal:
            return ValidationReport(outcome=REJECTED, errors=prepared.notes, ack_999="", crashed=False)
        copy.seek(0)
        try:
            ack, doc = _run_pyx12(copy)
        except Exception as exc:  # noqa: BLE001 - any pyx12 failure is a validation outcome, never a crash
            logger.info("pyx12 raised %s on %s", type(exc).__name__, path)
            return crashed_report(prepared.notes, exc)
    return report_from_pyx12(prepared.notes, _collect_errors(doc, prepared.envelope_ids), ack)


def crashed_report(notes: list[dict[str, Any]], exc: BaseException) -> ValidationReport:
    """The report of a file pyx12 raised on: "rejected", ``crashed``, no 999, a ``crash`` error last."""
    crash = _error(None, "", "", "crash", f"pyx12 raised {type(exc).__name__}: {exc}")
    return ValidationReport(outcome=REJECTED, errors=[*notes, crash], ack_999="", crashed=True)


def report_from_pyx12(
    notes: list[dict[str, Any]], errors: list[dict[str, Any]], ack: str
) -> ValidationReport:
    """The report of a pyx12 run: normalising's ``notes`` and pyx12's ``errors`` (file order) by position, the
    outcome its 999 ``ack`` states ("rejected" with ``not_x12`` when pyx12 wrote none), downgraded from
    "accepted" when any error was found."""
    all_errors = sorted([*notes, *errors], key=lambda e: e["position"] if e["position"] is not None else 0)
    if not ack.strip():
        # pyx12 returns without a 999 when it does not recognise the envelope (it logs, it does not raise).
        all_errors.append(_error(1, "ISA", "", "not_x12", "pyx12 could not read the interchange envelope"))
        return ValidationReport(outcome=REJECTED, errors=all_errors, ack_999="", crashed=False)
    outcome = outcome_from_999(ack)
    if outcome == ACCEPTED and all_errors:
        outcome = ACCEPTED_WITH_ERRORS
    return ValidationReport(outcome=outcome, errors=all_errors, ack_999=ack, crashed=False)
