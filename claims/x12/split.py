"""Validate one 837P in parts: split it, validate the parts apart with pyx12, merge the parts' results into the
report and the 999 a single ``validate_837`` run gives.

pyx12 validates ~430-520 claims/s on one core (``claims.x12.validation``): a 1,000,000-claim file takes ~40
minutes in one process. Here the file is cut into parts of about ``part_claims`` claims that Celery workers
validate side by side (``claims.tasks``), or this process one after the other (``validate_837_in_parts``).

**Plan** (``plan_parts``). One streaming pass over the file (``read_837_segments``: chunks, never the whole
file) finds the cut points and hashes the file. Parts never span a functional group. Within a group a part
ends at a transaction-set boundary once it holds ``part_claims`` claims; inside one transaction set that is
bigger than that, it ends before an HL segment (a 2000A, 2000B or 2000C loop start). A part is described by byte
ranges of the original file and segment positions only (``PartSpec``): a worker re-reads those ranges itself,
so no file content and no element value travels through the broker or the result backend.

**A part as pyx12 sees it** (built by ``validate_part``): the interchange's ISA and the group's GS copied, the
part's segments, a GE and an IEA rebuilt with this part's counts (the control segments of 005010X222A1
appendix B: GE01 counts the group's transaction sets, IEA01 the interchange's groups). A part that starts
inside a transaction set first repeats that set's ST and its header (BHT, 1000A, 1000B) and the HL loops above
the part's first HL: the 2000A billing provider before a 2000B, the 2000A and the 2000B subscriber with its
segments (SBR, 2010BA, 2010BB) before a 2000C, so every HL parent exists and the loops are in the order the
implementation guide requires. Its HL ids are renumbered from 1 (pyx12 checks that
HL01 counts from 1 in each transaction set and that HL02 names an HL above). A part that ends inside a
transaction set gets an SE with its own segment count; the set's real SE, in its last part, gets that part's
count. Each line of the part keeps the original position it came from, so errors are reported at the
original positions and the 999's IK3-02 at the original segment count within the transaction set.

**Cut points** follow pyx12's own state, so that a part is validated as it would be in the whole file:

* Only at an HL, never at a CLM inside an HL loop: pyx12 counts 2300 claims per HL loop (maximum 100,
  005010X222A1 loop 2300) and would restart the count in the next part, hiding "exceeded max count". In a
  conforming file an HL loop holds at most 100 claims, so parts still land within 100 claims of the target.
* A transaction set is split only when pyx12 would find nothing wrong with what the split changes: HL01
  counts 1, 2, 3 ...; each 2000B's HL02 names the current 2000A, each 2000C's the current 2000B, a 2000A has
  none; every LX follows a CLM of its HL loop and counts as pyx12 counts (2400 LX01 from 1 per claim); SE01
  and SE02 are right. Otherwise the set is validated whole, in one part.
* The file is validated whole, in one process (``plan.whole_file_reason``), unless its envelopes are
  regular: each interchange ISA .. GS .. ST .. SE .. GE .. IEA with nothing between, GE as ``GE*<sets>*<GS06>``
  and IEA as ``IEA*<groups>*<ISA13>``, control numbers unique where pyx12 checks them (ISA13 in the file,
  GS06 in the interchange, ST02 in the group), every ISA with the first ISA's delimiters and version, and
  nothing the normalising step would reject. Interchange- and group-level findings come from these envelopes;
  a file without them is rare and its findings are the envelope's, so splitting it buys nothing.

**Merge** (``merge_parts``): the errors of the parts, at original positions, with the normalising notes of the
plan; and one 999 built as pyx12's writer builds it (pyx12 ``error_999.py``): the ISA/GS of the last
interchange and group, one ST*999 per functional group in file order with AK1, one AK2..IK5 group per
transaction set (005010X231A1 loops 2000/2100), AK9 (AK902/AK903 the sets in the group, AK904 those whose IK5
is A or E), SE, GE, the TA1 pyx12 writes for the last interchange when its ISA14 asks for one, and IEA.
For a transaction set split across parts, its IK3/IK4 segments are the parts' in order and IK5 the union of
their codes (IK501 R when any part rejected it).

For such a set the 999 keeps one AK2 group, as pyx12 writes one per ST it reads: the parts' ST copies and
rebuilt SEs are never in it.

Where a part cannot be held to the whole file's result, the merge validates again in this process: the two
parts around a cut where pyx12 found something at the cut itself (at the first segment after it; at the
rebuilt SE; at a repeated HL, unless pyx12 found the same at that HL where it really is: pyx12 reports missing
segments of the loops it leaves at the next segment, which is not the same segment in a part), joined into
one; a part whose 999 values could not be located in the file (below); the whole file when a part crashed
pyx12 or reported an interchange or group error. The result is then the same, only slower. Errors pyx12
reports on the repeated segments (ST copy, header, the repeated loops' other segments) are the original
segments' own, reported by the part that holds them, and are left out elsewhere.

**PHI.** Task arguments and results carry positions, byte offsets, codes and value-free messages
(``_without_value``). pyx12's 999 copies the bad element's value into IK404 (005010X231A1: "copy of bad data
element"); a part hands back where that value sits in the file (original position, element, component) instead
of the value, and the merge reads it back from the file.

**What "identical" means.** pyx12 stamps every 999 it writes with the clock (ISA09/ISA10, GS04/GS05, ISA13/IEA02
taken from the date and time) and a random GS06/GE02; two single-process runs of the same file differ in those
fields. The merged 999 has pyx12's stamps of the last part; everything else equals the single-process 999.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from claims.x12.validation import (
    ValidationReport,
    _check_version,
    _Prepared,
    collect_pyx12_errors,
    normalise_piece,
    read_837_segments,
    report_from_pyx12,
    run_pyx12,
    segment_joiner,
    validate_837,
)

logger = logging.getLogger(__name__)

# Claims per part when no size is given: ~20-45 s of pyx12 on one core, small enough to spread a 100,000-claim
# file over 10 workers, big enough that pyx12's fixed ~0.12 s per run (map loading) stays under 1%.
DEFAULT_PART_CLAIMS = 10_000
_CHUNK = 1 << 20
_ENVELOPE_OUTSIDE_ST = frozenset({"ISA", "IEA", "GS", "GE", "ST"})
# HL03 hierarchical level codes of the 837P (005010X222A1 2000A/2000B/2000C): billing provider, subscriber,
# patient.
_PROVIDER, _SUBSCRIBER, _PATIENT = "20", "22", "23"


class FileChanged(Exception):
    """The file is no longer the one the plan was made from (its segments or its sha256 differ)."""


# --- The plan --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Span:
    """Consecutive segments of the original file: bytes ``[start, end)`` (whole pieces, terminators included),
    ``count`` non-empty segments from position ``first``."""

    start: int
    end: int
    first: int
    count: int

    @property
    def last(self) -> int:
        return self.first + self.count - 1


@dataclass(frozen=True, slots=True)
class PartSpec:
    """One part: what a worker reads from the file and how it rebuilds the part (module docstring).

    ``group``: functional group, 0-based in file order. ``body``: the original segments this part validates.
    ``first_st``/``last_st``: ordinals (0-based within the group) of the transaction sets the body starts and
    ends in. ``starts_inside``: the body starts at an HL inside ``first_st``; then ``st``, ``header`` and
    ``ancestors`` (the 2000A, and the 2000B, HL loops without their children) are repeated before it,
    ``ancestor_ids`` their HL01 and body HL ids become ``id - hl_shift`` up to ``first_st``'s SE.
    ``ends_inside``: the body ends before ``last_st``'s SE, whose position is ``se_position``.
    ``ge_position``/``iea_position``: the group's GE and the interchange's IEA. ``claims``: CLM segments in body.
    """

    index: int
    group: int
    isa: Span
    gs: Span
    body: Span
    first_st: int
    last_st: int
    starts_inside: bool
    ends_inside: bool
    st: Span | None
    header: Span | None
    ancestors: tuple[Span, ...]
    ancestor_ids: tuple[int, ...]
    hl_shift: int
    se_position: int
    ge_position: int
    iea_position: int
    claims: int

    def to_json(self) -> dict[str, Any]:
        """JSON-serialisable form, for Celery arguments (ints and booleans only)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PartSpec:
        def span(value: Any) -> Span | None:
            return Span(**value) if value is not None else None

        return cls(
            **{
                **data,
                "isa": span(data["isa"]),
                "gs": span(data["gs"]),
                "body": span(data["body"]),
                "st": span(data["st"]),
                "header": span(data["header"]),
                "ancestors": tuple(Span(**a) for a in data["ancestors"]),
                "ancestor_ids": tuple(data["ancestor_ids"]),
            }
        )


@dataclass(frozen=True)
class SplitPlan:
    """How a file is validated: in ``parts``, or whole when ``whole_file_reason`` says why not.

    ``sha256``/``size_bytes``: of the file read. ``notes``: what normalising found (``ValidationReport`` error
    dicts, value-free). ``groups``: transaction sets per functional group, file order. ``claims``: CLM count.
    """

    sha256: str
    size_bytes: int
    part_claims: int
    claims: int
    notes: list[dict[str, Any]]
    groups: list[int]
    parts: list[PartSpec]
    whole_file_reason: str = ""

    @property
    def split(self) -> bool:
        """Validated in more than one part."""
        return not self.whole_file_reason and len(self.parts) > 1

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "parts": [part.to_json() for part in self.parts]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SplitPlan:
        return cls(**{**data, "parts": [PartSpec.from_json(part) for part in data["parts"]]})


class _Irregular(Exception):
    """The file's envelopes are not regular enough to split (the message says how); validate it whole."""


class _HashingReader:
    """A binary file whose bytes are hashed (sha256) and counted as they are read."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.sha = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.sha.update(data)
        self.size += len(data)
        return data


@dataclass
class _Draft:
    """A part being planned; its body runs from ``start``/``first`` to the segment before the next cut."""

    start: int
    first: int
    first_st: int
    starts_inside: bool = False
    st: Span | None = None
    header: Span | None = None
    ancestors: tuple[Span, ...] = ()
    ancestor_ids: tuple[int, ...] = ()
    hl_shift: int = 0
    claims: int = 0
    end: int = 0
    last: int = 0
    last_st: int = 0
    ends_inside: bool = False
    se_position: int = 0


@dataclass
class _Block:
    """Consecutive segments of the transaction set being read: its header, or an HL loop up to its first child."""

    start: int
    first: int
    end: int
    count: int

    def span(self) -> Span:
        return Span(self.start, self.end, self.first, self.count)


@dataclass
class _Transaction:
    """What the planner tracks about the transaction set it is reading (pyx12's per-set counters)."""

    ordinal: int
    span: Span
    control: str
    segments: int = 1  # SE01 counts ST through SE (005010X222A1 SE segment)
    splittable: bool = True
    hl_count: int = 0
    provider_id: int | None = None
    subscriber_id: int | None = None
    provider_block: Span | None = None
    subscriber_block: Span | None = None
    header: Span | None = None
    # The block being read: "header" (ST to the first HL), a 2000A or 2000B loop (HL to its first child), or
    # "" (a 2000C or claim: nothing a later part repeats).
    open_kind: str = "header"
    open_block: _Block | None = None
    lx_count: int = 0
    clm_since_hl: bool = False
    drafts_before_cut: int | None = None  # index of the draft the first cut inside this set ended


@dataclass
class _Planner:
    """The streaming state machine behind ``plan_parts`` (one instance per file)."""

    part_claims: int
    claims: int = 0
    groups: list[int] = field(default_factory=list)
    parts: list[PartSpec] = field(default_factory=list)
    state: str = "start"  # the last envelope segment read: start, isa, gs, st, se, ge, iea
    isa: Span | None = None
    isa_elements: list[str] = field(default_factory=list)
    first_isa: list[str] = field(default_factory=list)
    isa_ids: set[str] = field(default_factory=set)
    gs: Span | None = None
    gs06: str = ""
    gs_ids: set[str] = field(default_factory=set)
    groups_in_isa: int = 0
    st_ids: set[str] = field(default_factory=set)
    transactions: int = 0
    tx: _Transaction | None = None
    drafts: list[_Draft] = field(default_factory=list)
    interchange_specs: list[PartSpec] = field(default_factory=list)  # awaiting the IEA's position
    last_end: int = 0
    last_position: int = 0

    def feed(self, seg_id: str, text: str, sep: str, span: Span) -> None:
        """Take the next segment (``span`` one segment long). Raises ``_Irregular``."""
        elements = text.split(sep) if seg_id in _ENVELOPE_OUTSIDE_ST or seg_id in ("SE", "HL") else []
        if seg_id == "ISA":
            self._isa(elements, text, span)
        elif seg_id == "IEA":
            self._iea(elements, span)
        elif seg_id == "GS":
            self._gs(elements, span)
        elif seg_id == "GE":
            self._ge(elements, span)
        elif seg_id == "ST":
            self._st(elements, span)
        elif seg_id == "SE":
            self._se(elements, span)
        elif self.state != "st":
            raise _Irregular(f"segment {seg_id} at {span.first} outside a transaction set")
        else:
            self._inside(seg_id, text, sep, elements, span)
        self.last_end, self.last_position = span.end, span.first

    # Envelope --------------------------------------------------------------------------------------------

    def _expect(self, *states: str, what: str, position: int) -> None:
        if self.state not in states:
            raise _Irregular(f"{what} at {position} follows {self.state.upper()}")

    def _isa(self, elements: list[str], text: str, span: Span) -> None:
        self._expect("start", "iea", what="ISA", position=span.first)
        if len(text) != 105 or len(elements) != 17:
            raise _Irregular(f"ISA at {span.first} is not the fixed 106 characters with 16 elements")
        self.first_isa = self.first_isa or elements
        # pyx12 reads the delimiters and the version from the file's first ISA only: a later interchange
        # that declared others would be read differently in a part that starts with it.
        if [elements[11], elements[12], elements[16]] != [self.first_isa[i] for i in (11, 12, 16)]:
            raise _Irregular(f"ISA at {span.first} declares other delimiters or version than the first")
        if elements[13] in self.isa_ids:
            raise _Irregular(f"ISA13 at {span.first} repeats an earlier interchange's")
        self.isa_ids.add(elements[13])
        self.isa, self.isa_elements = span, elements
        self.gs_ids = set()
        self.groups_in_isa = 0
        self.interchange_specs = []
        self.state = "isa"

    def _iea(self, elements: list[str], span: Span) -> None:
        self._expect("ge", what="IEA", position=span.first)
        if elements != ["IEA", str(self.groups_in_isa), self.isa_elements[13]]:
            raise _Irregular(f"IEA at {span.first} is not IEA*{self.groups_in_isa}*<ISA13>")
        self.parts += [replace(spec, iea_position=span.first) for spec in self.interchange_specs]
        self.state = "iea"

    def _gs(self, elements: list[str], span: Span) -> None:
        self._expect("isa", "ge", what="GS", position=span.first)
        gs06 = elements[6] if len(elements) > 6 else ""
        if gs06 in self.gs_ids:
            raise _Irregular(f"GS06 at {span.first} repeats an earlier group's in the interchange")
        self.gs_ids.add(gs06)
        self.gs, self.gs06 = span, gs06
        self.st_ids = set()
        self.transactions = 0
        self.drafts = []
        self.state = "gs"

    def _ge(self, elements: list[str], span: Span) -> None:
        self._expect("se", what="GE", position=span.first)
        if elements != ["GE", str(self.transactions), self.gs06]:
            raise _Irregular(f"GE at {span.first} is not GE*{self.transactions}*<GS06>")
        self._end_draft(ends_inside=False)
        assert self.isa is not None and self.gs is not None
        group = len(self.groups)
        for draft in self.drafts:
            self.interchange_specs.append(
                PartSpec(
                    index=0,  # numbered when the plan is complete
                    group=group,
                    isa=self.isa,
                    gs=self.gs,
                    body=Span(draft.start, draft.end, draft.first, draft.last - draft.first + 1),
                    first_st=draft.first_st,
                    last_st=draft.last_st,
                    starts_inside=draft.starts_inside,
                    ends_inside=draft.ends_inside,
                    st=draft.st,
                    header=draft.header,
                    ancestors=draft.ancestors,
                    ancestor_ids=draft.ancestor_ids,
                    hl_shift=draft.hl_shift,
                    se_position=draft.se_position,
                    ge_position=span.first,
                    iea_position=0,
                    claims=draft.claims,
                )
            )
        self.groups.append(self.transactions)
        self.groups_in_isa += 1
        self.state = "ge"

    def _st(self, elements: list[str], span: Span) -> None:
        self._expect("gs", "se", what="ST", position=span.first)
        control = elements[2] if len(elements) > 2 else ""
        if control in self.st_ids:
            # pyx12 checks ST02 within the group (error 23): a duplicate in another part would go unseen.
            raise _Irregular(f"ST02 at {span.first} repeats an earlier transaction set's in the group")
        self.st_ids.add(control)
        draft = self.drafts[-1] if self.drafts else None
        if draft is None or draft.claims >= self.part_claims:
            if draft is not None:
                self._end_draft(ends_inside=False)
            self.drafts.append(_Draft(start=span.start, first=span.first, first_st=self.transactions))
        self.tx = _Transaction(ordinal=self.transactions, span=span, control=control)
        self.transactions += 1
        self.state = "st"

    def _se(self, elements: list[str], span: Span) -> None:
        self._expect("st", what="SE", position=span.first)
        tx = self.tx
        assert tx is not None
        tx.segments += 1
        # The set's last part rewrites SE01 with its own count: only a right SE can be rewritten unseen.
        if elements != ["SE", str(tx.segments), tx.control]:
            tx.splittable = False
        if tx.drafts_before_cut is not None:
            if tx.splittable:
                for draft in self.drafts[tx.drafts_before_cut : -1]:
                    draft.se_position = span.first
            else:
                self._undo_cuts(tx.drafts_before_cut)
        self.state = "se"

    # Inside a transaction set -----------------------------------------------------------------------------

    def _inside(self, seg_id: str, text: str, sep: str, elements: list[str], span: Span) -> None:
        tx = self.tx
        assert tx is not None
        tx.segments += 1
        if seg_id in ("HL", "CLM"):
            self._close_block(tx)
        if seg_id == "HL":
            self._hl(tx, elements, span)
            return
        if seg_id == "CLM":
            self.claims += 1
            self.drafts[-1].claims += 1
            tx.lx_count = 0
            tx.clm_since_hl = True
            return
        if seg_id == "LX":
            # pyx12 counts LX from 1 after each CLM (x12file, check_837_lx). A part starts its count afresh
            # at its first CLM, so an LX that follows no CLM of its own HL loop keeps the set whole.
            tx.lx_count += 1
            if not tx.clm_since_hl or text.split(sep)[1:2] != [str(tx.lx_count)]:
                tx.splittable = False
        if tx.open_kind:
            if tx.open_block is None:
                tx.open_block = _Block(span.start, span.first, span.end, 1)
            else:
                tx.open_block.end, tx.open_block.count = span.end, tx.open_block.count + 1

    def _close_block(self, tx: _Transaction) -> None:
        block = tx.open_block.span() if tx.open_block is not None else None
        if tx.open_kind == "header":
            tx.header = block
        elif tx.open_kind == _PROVIDER:
            tx.provider_block = block
        elif tx.open_kind == _SUBSCRIBER:
            tx.subscriber_block = block
        tx.open_kind, tx.open_block = "", None

    def _hl(self, tx: _Transaction, elements: list[str], span: Span) -> None:
        """An HL: pyx12's HL checks (x12file: HL01 counts from 1, HL02 an HL above), a cut before it when the
        part is full, and the loop it opens."""
        tx.hl_count += 1
        tx.clm_since_hl = False
        hl01, hl02, hl03 = ([*elements, "", "", ""])[1:4]
        parent = {_PROVIDER: None, _SUBSCRIBER: tx.provider_id, _PATIENT: tx.subscriber_id}
        if (
            hl01 != str(tx.hl_count)
            or hl03 not in parent
            or (hl03 != _PROVIDER and parent[hl03] is None)
            or hl02 != (str(parent[hl03]) if parent.get(hl03) is not None else "")
        ):
            tx.splittable = False
        if tx.splittable and self.drafts[-1].claims >= self.part_claims:
            ancestors: tuple[Span, ...] | None = None
            ancestor_ids: tuple[int, ...] = ()
            if hl03 == _PROVIDER:
                ancestors = ()
            elif hl03 == _SUBSCRIBER and tx.provider_block is not None and tx.provider_id is not None:
                ancestors, ancestor_ids = (tx.provider_block,), (tx.provider_id,)
            elif (
                hl03 == _PATIENT
                and tx.provider_block is not None
                and tx.subscriber_block is not None
                and tx.provider_id is not None
                and tx.subscriber_id is not None
            ):
                ancestors = (tx.provider_block, tx.subscriber_block)
                ancestor_ids = (tx.provider_id, tx.subscriber_id)
            if ancestors is not None:
                self._cut(tx, span, ancestors, ancestor_ids)
        if hl03 == _PROVIDER:
            tx.provider_id, tx.subscriber_id = tx.hl_count, None
            tx.provider_block = tx.subscriber_block = None
        elif hl03 == _SUBSCRIBER:
            tx.subscriber_id, tx.subscriber_block = tx.hl_count, None
        if hl03 in (_PROVIDER, _SUBSCRIBER):
            tx.open_kind, tx.open_block = hl03, _Block(span.start, span.first, span.end, 1)

    def _cut(
        self, tx: _Transaction, span: Span, ancestors: tuple[Span, ...], ancestor_ids: tuple[int, ...]
    ) -> None:
        """End the current part before the HL at ``span``; the next part starts with it. Tentative: the cuts
        inside a transaction set are undone at its SE when it turns out not splittable."""
        if tx.drafts_before_cut is None:
            tx.drafts_before_cut = len(self.drafts) - 1
        self._end_draft(ends_inside=True)
        self.drafts.append(
            _Draft(
                start=span.start,
                first=span.first,
                first_st=tx.ordinal,
                starts_inside=True,
                st=tx.span,
                header=tx.header,
                ancestors=ancestors,
                ancestor_ids=ancestor_ids,
                # The repeated loops become HL 1 (and 2); this HL the next one.
                hl_shift=tx.hl_count - (len(ancestors) + 1),
            )
        )

    def _end_draft(self, *, ends_inside: bool) -> None:
        draft = self.drafts[-1]
        draft.end, draft.last = self.last_end, self.last_position
        draft.last_st = self.transactions - 1
        draft.ends_inside = ends_inside

    def _undo_cuts(self, kept: int) -> None:
        """Join the drafts from ``kept`` on back into one: the transaction set they split stays whole."""
        first = self.drafts[kept]
        for later in self.drafts[kept + 1 :]:
            first.claims += later.claims
        del self.drafts[kept + 1 :]
        first.ends_inside = False
        first.se_position = 0


def plan_parts(path: Path, *, part_claims: int = DEFAULT_PART_CLAIMS) -> SplitPlan:
    """Read the 837P at ``path`` once, in chunks, and plan its validation in parts of about ``part_claims``
    claims (module docstring: where it cuts, and when the file is validated whole).

    Raises ``ValueError`` when ``part_claims`` < 1 and ``OSError`` when the file cannot be read; never for
    content (a file that cannot be split gets a ``whole_file_reason`` and no parts).
    """
    if part_claims < 1:
        raise ValueError(f"part_claims must be at least 1, got {part_claims}")
    planner = _Planner(part_claims=part_claims)
    prepared = _Prepared()
    reason = ""
    with Path(path).open("rb") as raw:
        reader = _HashingReader(raw)
        try:
            for segment in read_837_segments(reader, prepared):
                if not reason:
                    try:
                        planner.feed(
                            segment.seg_id,
                            segment.text,
                            prepared.element_sep,
                            Span(segment.start, segment.end, segment.position, 1),
                        )
                    except _Irregular as exc:
                        reason = str(exc)
        finally:
            while reader.read(_CHUNK):  # the hash covers the whole file even when reading stopped early
                pass
    if prepared.fatal:
        reason = "normalising found the file unfit for pyx12 (see its notes)"
    elif prepared.notes and any(n["code"] in ("unterminated_segment", "not_x12") for n in prepared.notes):
        reason = "the file is truncated"
    elif not reason and planner.state != "iea":
        reason = f"the file ends after {planner.state.upper()}, not after an IEA"
    parts = [] if reason else [replace(spec, index=i) for i, spec in enumerate(planner.parts)]
    return SplitPlan(
        sha256=reader.sha.hexdigest(),
        size_bytes=reader.size,
        part_claims=part_claims,
        claims=planner.claims,
        notes=prepared.notes,
        groups=planner.groups if not reason else [],
        parts=parts,
        whole_file_reason=reason,
    )


def file_sha256(path: Path) -> str:
    """sha256 (hex) of the file at ``path``, read in chunks."""
    sha = hashlib.sha256()
    with Path(path).open("rb") as raw:
        while chunk := raw.read(_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


# --- One part ----------------------------------------------------------------------------------------------


# Kinds of the lines of a part, by where they come from; they decide what pyx12's findings on them mean.
_ENVELOPE = "envelope"  # ISA, GS copied; GE, IEA rebuilt
_COPY = "copy"  # repeated ST, header, and the repeated HL loops' other segments: findings are duplicates
_AT_CUT = "at_cut"  # repeated HL segments and the first segment after a cut: findings there may be the cut's
_SE_AT_CUT = "se_at_cut"  # the rebuilt SE of a part that ends inside a transaction set
_BODY = "body"


@dataclass(frozen=True, slots=True)
class _Run:
    """Part lines ``line`` .. ``line + count - 1`` came from original positions ``position`` ..; ``kind``."""

    line: int
    position: int
    count: int
    kind: str


@dataclass
class _PartFile:
    """A part written for pyx12, with where each of its lines came from."""

    runs: list[_Run] = field(default_factory=list)
    st_lines: list[int] = field(default_factory=list)  # part line of each ST, in order
    modified: set[int] = field(default_factory=set)  # part lines whose text differs from the original's
    envelope_ids: dict[int, str] = field(default_factory=dict)
    lines: int = 0
    cut_line: int = 0  # the first body line when the part starts inside a transaction set

    def add(self, count: int, position: int, kind: str) -> None:
        if count:
            self.runs.append(_Run(self.lines + 1, position, count, kind))
            self.lines += count

    def where(self, line: int) -> tuple[int, str]:
        """(original position, kind) of part line ``line``."""
        for run in self.runs:
            if run.line <= line < run.line + run.count:
                return run.position + line - run.line, run.kind
        raise ValueError(f"line {line} is not in the part")


def _span_texts(raw: IO[bytes], span: Span, sep: str, terminator: str) -> Iterator[str]:
    """The normalised segments of ``span`` (as ``read_837_segments`` gave them: stripped, empty ones dropped,
    GS/ST version labels substituted). Raises ``FileChanged`` when the span no longer holds ``span.count``."""
    raw.seek(span.start)
    left = span.end - span.start
    buffer = ""
    count = 0
    scratch: list[dict[str, Any]] = []
    while left > 0 or buffer:
        if left > 0:
            chunk = raw.read(min(_CHUNK, left))
            if not chunk:
                raise FileChanged("the file is shorter than planned")
            left -= len(chunk)
            buffer += chunk.decode("latin-1")
        *pieces, buffer = buffer.split(terminator)
        if left <= 0 and buffer.strip():
            raise FileChanged("a planned segment range does not end with a terminator")
        if left <= 0:
            buffer = ""
        for piece in pieces:
            text = normalise_piece(piece)
            if not text:
                continue
            elements = text.split(sep)
            if elements[0] in ("GS", "ST"):
                _check_version(elements[0], elements, 0, scratch)
                text = sep.join(elements)
            count += 1
            yield text
    if count != span.count:
        raise FileChanged(f"a planned range holds {count} segments, not {span.count}")


def _renumber_hl(elements: list[str], spec: PartSpec) -> None:
    """HL01/HL02 of a body HL of a part that starts inside a transaction set (module docstring)."""
    elements[1] = str(int(elements[1]) - spec.hl_shift)
    if elements[2]:
        parent = int(elements[2])
        if parent in spec.ancestor_ids:
            elements[2] = str(spec.ancestor_ids.index(parent) + 1)
        else:
            elements[2] = str(parent - spec.hl_shift)


def _write_part(raw: IO[bytes], spec: PartSpec, copy: IO[str], sep: str, terminator: str) -> _PartFile:
    """Write the part ``spec`` describes to ``copy`` as pyx12 will read it; return where its lines came from."""
    part = _PartFile()
    joiner = segment_joiner(terminator)

    def write(text: str) -> None:
        copy.write(text)
        copy.write(joiner)

    isa = next(_span_texts(raw, spec.isa, sep, terminator))
    gs = next(_span_texts(raw, spec.gs, sep, terminator))
    write(isa)
    write(gs)
    part.add(1, spec.isa.first, _ENVELOPE)
    part.add(1, spec.gs.first, _ENVELOPE)
    part.envelope_ids.update({1: "ISA", 2: "GS"})
    st_segments = 0  # segments of the open transaction set, ST included (SE01)
    control = ""  # its ST02
    if spec.starts_inside:
        assert spec.st is not None
        st = next(_span_texts(raw, spec.st, sep, terminator))
        control = st.split(sep)[2]
        write(st)
        part.add(1, spec.st.first, _COPY)
        part.st_lines.append(part.lines)
        part.envelope_ids[part.lines] = "ST"
        st_segments = 1
        if spec.header is not None:
            for text in _span_texts(raw, spec.header, sep, terminator):
                write(text)
            part.add(spec.header.count, spec.header.first, _COPY)
            st_segments += spec.header.count
        for number, block in enumerate(spec.ancestors, start=1):
            for i, text in enumerate(_span_texts(raw, block, sep, terminator)):
                if i == 0:
                    elements = text.split(sep)
                    elements[1] = str(number)
                    elements[2] = str(number - 1) if number > 1 else ""
                    text = sep.join(elements)
                    part.modified.add(part.lines + 1)
                write(text)
            part.add(1, block.first, _AT_CUT)
            part.add(block.count - 1, block.first + 1, _COPY)
            st_segments += block.count

    renumbering = spec.starts_inside
    line = part.lines
    for text in _span_texts(raw, spec.body, sep, terminator):
        line += 1
        seg_id = text.split(sep, 1)[0]
        if seg_id == "ST":
            part.st_lines.append(line)
            part.envelope_ids[line] = "ST"
            st_segments = 1
            control = text.split(sep)[2] if text.count(sep) >= 2 else ""
        elif seg_id == "SE":
            st_segments += 1
            part.envelope_ids[line] = "SE"
            if renumbering:
                # The set's real SE, in its last part: this part's count (the plan checked the original's).
                elements = text.split(sep)
                elements[1] = str(st_segments)
                text = sep.join(elements)
                part.modified.add(line)
                renumbering = False
        else:
            st_segments += 1
            if renumbering and seg_id == "HL":
                elements = text.split(sep)
                _renumber_hl(elements, spec)
                text = sep.join(elements)
                part.modified.add(line)
        write(text)
    if spec.starts_inside:
        part.add(1, spec.body.first, _AT_CUT)
        part.cut_line = part.lines
        part.add(spec.body.count - 1, spec.body.first + 1, _BODY)
    else:
        part.add(spec.body.count, spec.body.first, _BODY)
    if spec.ends_inside:
        write(sep.join(("SE", str(st_segments + 1), control)))
        part.add(1, spec.se_position, _SE_AT_CUT)
        part.envelope_ids[part.lines] = "SE"
    write(sep.join(("GE", str(spec.last_st - spec.first_st + 1), gs.split(sep)[6])))
    part.add(1, spec.ge_position, _ENVELOPE)
    part.envelope_ids[part.lines] = "GE"
    write(sep.join(("IEA", "1", isa.split(sep)[13])))
    part.add(1, spec.iea_position, _ENVELOPE)
    part.envelope_ids[part.lines] = "IEA"
    return part


def _delimiters(raw: IO[bytes], spec: PartSpec) -> tuple[str, str, str]:
    """(element separator, component separator, segment terminator) of the part's ISA (X12.5 fixed offsets:
    characters 4, 105 and 106)."""
    raw.seek(spec.isa.start)
    text = raw.read(spec.isa.end - spec.isa.start).decode("latin-1").lstrip()
    if len(text) < 106:
        raise FileChanged("the planned ISA is gone")
    return text[3], text[104], text[105]


def _part_segments(copy: IO[str], joiner: str, wanted: set[int]) -> dict[int, str]:
    """The text of the part's lines ``wanted`` (1-based), read back from the copy pyx12 read."""
    found: dict[int, str] = {}
    copy.seek(0)
    number = 0
    buffer = ""
    while len(found) < len(wanted):
        chunk = copy.read(_CHUNK)
        if not chunk:
            break
        buffer += chunk
        *texts, buffer = buffer.split(joiner)
        for text in texts:
            number += 1
            if number in wanted:
                found[number] = text
    return found


def _element_text(segment: str, sep: str, component: str, ik401: str) -> str | None:
    """The element (or component) IK401 ``position[:component]`` points at in ``segment``; None if absent."""
    where = ik401.split(":")
    try:
        value = segment.split(sep)[int(where[0])]
        if len(where) > 1:
            value = value.split(component)[int(where[1]) - 1]
    except (IndexError, ValueError):
        return None
    return value


def failed_part(index: int, status: str, error: str) -> dict[str, Any]:
    """The result of a part that could not be validated (``status`` e.g. "timed_out", "unreadable"): the
    merge then validates the whole file in its own process."""
    return {**_empty_result(index), "status": status, "error": error}


def _empty_result(index: int) -> dict[str, Any]:
    return {
        "index": index,
        "status": "ok",
        "error": "",
        "errors": [],
        "transactions": [],
        "ak1": "",
        "ak9_codes": [],
        "header": [],
        "ta1": "",
        "unclean_start": False,
        "unclean_end": False,
        "needs_local": False,
        "envelope_errors": False,
        "ancestor_errors": [],
        "ancestor_lines": [],
    }


def validate_part(path: Path, spec: PartSpec, *, inline_values: bool = False) -> dict[str, Any]:
    """Validate the part ``spec`` of the file at ``path`` with pyx12; the result, JSON-serialisable.

    Keys: ``index``; ``status`` "ok", "crashed" (pyx12 raised; ``error`` names the exception type),
    "no_ack" (pyx12 wrote no 999) or "unreadable" (its 999 was not in pyx12's usual shape); ``errors``
    (``ValidationReport`` error dicts at original positions, value-free; those on repeated segments left out);
    ``transactions``: per transaction set touched, in order, ``ordinal`` (within the group), ``lines`` (the
    999's AK2, IK3 and IK4 segments, IK3-02 at the original count), ``ack`` and ``codes`` of its IK5, and
    ``values``: ``[index in lines, original position, IK401]`` for each IK4 whose IK404 value was taken out;
    ``ak1``, ``ak9_codes``, ``header`` (the 999's ISA and GS), ``ta1`` ("" or pyx12's TA1); and for the
    merge ``unclean_start``/``unclean_end`` (pyx12 found something at the cut before/after the part),
    ``needs_local`` (an IK404 value could not be located in the file) and ``envelope_errors`` (an
    interchange- or group-level finding). With ``inline_values`` the IK404 values stay in the lines: only for
    results that never leave this process. Raises ``FileChanged`` when the file no longer holds the planned
    segments, ``OSError`` when it cannot be read.
    """
    result = _empty_result(spec.index)
    with (
        Path(path).open("rb") as raw,
        tempfile.SpooledTemporaryFile(max_size=1 << 20, mode="w+", encoding="ascii", newline="") as copy,
    ):
        sep, component, terminator = _delimiters(raw, spec)
        part = _write_part(raw, spec, copy, sep, terminator)
        copy.seek(0)
        try:
            _valid, ack, doc = run_pyx12(copy)
        except Exception as exc:  # noqa: BLE001 - any pyx12 failure is an outcome; the merge redoes the file
            logger.info("pyx12 raised %s on part %s", type(exc).__name__, spec.index)
            return {**result, "status": "crashed", "error": type(exc).__name__}
        if not ack.strip():
            return {**result, "status": "no_ack"}
        _collect(result, part, doc)
        try:
            _read_999(result, part, spec, ack)
        except _Unreadable as exc:
            logger.info("part %s: unexpected 999 (%s)", spec.index, exc)
            return {**result, "status": "unreadable", "error": str(exc)}
        _locate_values(result, part, copy, sep, component, terminator, inline_values=inline_values)
    return result


def _collect(result: dict[str, Any], part: _PartFile, doc: dict[str, Any]) -> None:
    """The part's errors at original positions; flags for findings at the cuts or on the envelopes."""
    for isa in doc.get("interchanges", []):
        result["envelope_errors"] |= bool(isa.get("errors"))
        for gs in isa.get("groups", []):
            result["envelope_errors"] |= bool(gs.get("errors"))
    errors, _acks_ok = collect_pyx12_errors(doc, part.envelope_ids)
    for error in errors:
        line = error["position"]
        if line is None:
            result["envelope_errors"] = True
            continue
        position, kind = part.where(line)
        if kind == _COPY:
            continue
        if kind == _AT_CUT and line != part.cut_line:
            # A repeated HL: the merge holds its findings to the original HL's (``_ancestors_agree``).
            result["ancestor_errors"].append({**error, "position": position})
        elif kind == _AT_CUT:
            result["unclean_start"] = True
        elif kind == _SE_AT_CUT:
            result["unclean_end"] = True
        elif kind == _ENVELOPE:
            result["envelope_errors"] = True
        else:
            result["errors"].append({**error, "position": position})


class _Unreadable(Exception):
    """The part's 999 is not in the shape pyx12's writer gives (the merge then validates the file whole)."""


def _read_999(result: dict[str, Any], part: _PartFile, spec: PartSpec, ack: str) -> None:
    """Take the part's 999 apart: header, AK1, one AK2..IK5 group per transaction set, AK9 codes, TA1."""
    lines = ack.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not all(line.endswith("~") for line in lines):
        raise _Unreadable("not one segment per line")
    ids = [line.split("*", 1)[0].rstrip("~") for line in lines]
    if ids[:4] != ["ISA", "GS", "ST", "AK1"] or ids.count("ST") != 1 or "AK9" not in ids or ids[-1] != "IEA":
        raise _Unreadable("not one ISA, GS, ST*999, AK1 .. AK9 .. IEA")
    result["header"] = lines[:2]
    result["ak1"] = lines[3]
    ak9 = ids.index("AK9")
    result["ak9_codes"] = lines[ak9][:-1].split("*")[5:]
    result["ta1"] = next((line for line, seg in zip(lines, ids, strict=True) if seg == "TA1"), "")
    blocks: list[list[str]] = []
    for line, seg in zip(lines[4:ak9], ids[4:ak9], strict=True):
        if seg == "AK2":
            blocks.append([line])
        elif seg in ("IK3", "IK4", "IK5") and blocks:
            blocks[-1].append(line)
        else:
            raise _Unreadable(f"{seg} outside an AK2 group")
    if len(blocks) != len(part.st_lines) or len(blocks) != spec.last_st - spec.first_st + 1:
        raise _Unreadable(f"{len(blocks)} AK2 groups for {len(part.st_lines)} transaction sets")
    for i, block in enumerate(blocks):
        if not block[-1].startswith("IK5*") or sum(line.startswith("IK5*") for line in block) != 1:
            raise _Unreadable("an AK2 group without one IK5 at its end")
        result["transactions"].append(_transaction(result, part, spec, i, block))


def _transaction(
    result: dict[str, Any], part: _PartFile, spec: PartSpec, i: int, block: list[str]
) -> dict[str, Any]:
    """The ``i``-th transaction set of the part: its AK2/IK3/IK4 lines with IK3-02 at the original count,
    the IK3 groups on repeated segments left out, those at a cut flagged; its IK5 ack and codes."""
    st_line = part.st_lines[i]
    st_position, _kind = part.where(st_line)
    kept: list[str] = [block[0]]
    segment_lines: list[int] = [0]  # the part line each kept line reports on (0 for AK2)
    keep, kind = True, _BODY
    current = 0
    for line in block[1:-1]:
        elements = line[:-1].split("*")
        if elements[0] == "IK3":
            try:
                current = st_line + int(elements[2]) - 1
            except (IndexError, ValueError) as exc:
                raise _Unreadable("IK3 without a segment count") from exc
            position, kind = part.where(current)
            keep = kind == _BODY
            ancestor = kind == _AT_CUT and current != part.cut_line
            result["unclean_start"] |= kind == _AT_CUT and not ancestor
            result["unclean_end"] |= kind == _SE_AT_CUT
            result["envelope_errors"] |= kind == _ENVELOPE
            elements[2] = str(position - st_position + 1)
            line = "*".join(elements) + "~"
            if ancestor:
                result["ancestor_lines"].append([position, []])
        elif kind == _AT_CUT and current != part.cut_line:
            line = _bare(line)
        if keep:
            kept.append(line)
            segment_lines.append(current)
        elif kind == _AT_CUT and current != part.cut_line:
            result["ancestor_lines"][-1][1].append(line)
    ik5 = block[-1][:-1].split("*")[1:]
    ordinal = spec.first_st + i
    # pyx12 writes at most five IK5 codes: a union of cut-off lists could miss one.
    if len(ik5) > 5:
        result["unclean_start"] |= spec.starts_inside and i == 0
        result["unclean_end"] |= spec.ends_inside and ordinal == spec.last_st
    return {
        "ordinal": ordinal,
        "lines": kept,
        "segment_lines": segment_lines,
        "ack": ik5[0] if ik5 else "",
        "codes": ik5[1:],
        "values": [],
    }


def _bare(line: str) -> str:
    """An IK4 line without its IK404 value (any other line as it is)."""
    elements = line[:-1].split("*", 4)
    return "*".join(elements[:4]) + "~" if elements[0] == "IK4" and len(elements) == 5 else line


def _locate_values(
    result: dict[str, Any],
    part: _PartFile,
    copy: IO[str],
    sep: str,
    component: str,
    terminator: str,
    *,
    inline_values: bool,
) -> None:
    """Take each IK404 value out of the lines and record where it sits in the file (``values``); flag
    ``needs_local`` for a value that is not simply the element's text in an unmodified segment."""
    with_value = [
        (tx, index)
        for tx in result["transactions"]
        for index, line in enumerate(tx["lines"])
        if line.startswith("IK4*") and len(line.split("*", 4)) == 5
    ]
    segments = _part_segments(
        copy, segment_joiner(terminator), {tx["segment_lines"][index] for tx, index in with_value}
    )
    for tx, index in with_value:
        elements = tx["lines"][index][:-1].split("*", 4)
        segment_line = tx["segment_lines"][index]
        position, kind = part.where(segment_line)
        found = _element_text(segments.get(segment_line, ""), sep, component, elements[1])
        if kind == _BODY and segment_line not in part.modified and found == elements[4]:
            tx["lines"][index] = "*".join(elements[:4]) + "~"
            tx["values"].append([index, position, elements[1]])
        elif not inline_values:
            result["needs_local"] = True
            tx["lines"][index] = "*".join(elements[:4]) + "~"
    for tx in result["transactions"]:
        del tx["segment_lines"]


# --- Merge -----------------------------------------------------------------------------------------------------


def merge_parts(path: Path, plan: SplitPlan, results: list[dict[str, Any]]) -> ValidationReport:
    """The report of the whole file from its parts' results (module docstring: how, and when parts or the file
    are validated again here). ``results`` in any order, one per part of ``plan``.

    Raises ``FileChanged`` when the file is no longer the planned one (its sha256 is checked after merging, so
    a file replaced while the parts ran is never reported on), ``OSError`` when it cannot be read.
    """
    by_index = {result["index"]: result for result in results}
    report: ValidationReport | None = None
    if all(_usable(by_index.get(spec.index)) for spec in plan.parts):
        settled = _settle(path, [(spec, by_index[spec.index]) for spec in plan.parts])
        if all(_usable(result) for _spec, result in settled):
            _restore_values(path, settled)
            errors = [error for _spec, result in settled for error in result["errors"]]
            report = report_from_pyx12(list(plan.notes), errors, _assemble_999(plan, settled))
    if report is None:
        logger.info("validating the file whole: a part crashed, wrote no 999 or found an envelope error")
        report = validate_837(path)
    if file_sha256(path) != plan.sha256:
        raise FileChanged(f"{path} changed while it was validated")
    return report


def _usable(result: dict[str, Any] | None) -> bool:
    return result is not None and result["status"] == "ok" and not result["envelope_errors"]


def _settle(
    path: Path, parts: list[tuple[PartSpec, dict[str, Any]]]
) -> list[tuple[PartSpec, dict[str, Any]]]:
    """Validate again, here, what the parts' results cannot be held to: a part whose IK404 values could not
    be located (as it is), two parts around a cut pyx12 found something at (joined into one)."""
    parts = [
        (spec, validate_part(path, spec, inline_values=True) if result["needs_local"] else result)
        for spec, result in parts
    ]
    while True:
        for k in range(len(parts) - 1):
            (left, left_result), (right, right_result) = parts[k], parts[k + 1]
            unclean = (
                left_result["unclean_end"]
                or right_result["unclean_start"]
                or not _ancestors_agree(right, right_result, parts)
            )
            if left.ends_inside and unclean:
                logger.info("validating parts %s and %s as one: pyx12 found something at the cut", k, k + 1)
                joined = _join(left, right)
                parts[k : k + 2] = [(joined, validate_part(path, joined, inline_values=True))]
                break
        else:
            return parts


def _ancestors_agree(
    spec: PartSpec, result: dict[str, Any], parts: list[tuple[PartSpec, dict[str, Any]]]
) -> bool:
    """Whether what pyx12 found at the part's repeated HLs is what it found at those HLs where they really
    are (then it is a duplicate, left out; else it came from the cut and the part is validated again with
    the one before). pyx12 reports the loops it leaves at the next segment: after a header with a missing
    segment, every part's repeated 2000A HL carries the finding the original first 2000A HL does."""
    if not result["ancestor_errors"] and not result["ancestor_lines"]:
        return True
    assert spec.st is not None
    for position in {
        *(e["position"] for e in result["ancestor_errors"]),
        *(p for p, _ in result["ancestor_lines"]),
    }:
        owner = next(
            (r for s, r in parts if s.group == spec.group and s.body.first <= position <= s.body.last), None
        )
        if owner is None:
            return False
        mine_errors = [e for e in result["ancestor_errors"] if e["position"] == position]
        owner_errors = [e for e in owner["errors"] if e["position"] == position]
        mine_lines = [line for p, lines in result["ancestor_lines"] if p == position for line in lines]
        count = str(position - spec.st.first + 1)
        owner_lines: list[str] = []
        for tx in owner["transactions"]:
            if tx["ordinal"] != spec.first_st:
                continue
            taking = False
            for line in tx["lines"][1:]:
                elements = line[:-1].split("*")
                if elements[0] == "IK3":
                    taking = elements[2] == count
                if taking:
                    owner_lines.append(_bare(line))
        if mine_errors != owner_errors or mine_lines != owner_lines:
            return False
    return True


def _join(left: PartSpec, right: PartSpec) -> PartSpec:
    """One part from two adjacent parts of the same group."""
    return replace(
        left,
        body=Span(left.body.start, right.body.end, left.body.first, right.body.last - left.body.first + 1),
        last_st=right.last_st,
        ends_inside=right.ends_inside,
        se_position=right.se_position,
        claims=left.claims + right.claims,
    )


def _restore_values(path: Path, parts: list[tuple[PartSpec, dict[str, Any]]]) -> None:
    """Put back into the parts' IK4 lines the IK404 values they located in the file (one more read of it)."""
    located = [
        (tx, value) for _spec, result in parts for tx in result["transactions"] for value in tx["values"]
    ]
    if not located:
        return
    wanted = {position: "" for _tx, (_index, position, _ik401) in located}
    prepared = _Prepared()
    with Path(path).open("rb") as raw:
        for segment in read_837_segments(raw, prepared):
            if segment.position in wanted:
                wanted[segment.position] = segment.text
    for tx, (index, position, ik401) in located:
        value = _element_text(wanted[position], prepared.element_sep, prepared.component_sep, ik401)
        if value is None:
            raise FileChanged(f"segment {position} no longer holds element {ik401}")
        tx["lines"][index] = f"{tx['lines'][index][:-1]}*{value}~"
    for _spec, result in parts:
        for tx in result["transactions"]:
            tx["values"] = []


def _assemble_999(plan: SplitPlan, parts: list[tuple[PartSpec, dict[str, Any]]]) -> str:
    """The 999 pyx12 writes for the whole file, from the parts' pieces (module docstring)."""
    last = parts[-1][1]
    isa, gs = last["header"]
    out = [isa, gs]
    for group, transactions in enumerate(plan.groups):
        in_group = [result for spec, result in parts if spec.group == group]
        pieces_of: dict[int, list[dict[str, Any]]] = {}
        for result in in_group:
            for tx in result["transactions"]:
                pieces_of.setdefault(tx["ordinal"], []).append(tx)
        number = f"{group + 1:04d}"
        body = [f"ST*999*{number}*005010X231~", in_group[0]["ak1"]]
        failed = 0
        for ordinal in range(transactions):
            pieces = pieces_of[ordinal]
            body.append(pieces[0]["lines"][0])  # AK2
            for piece in pieces:
                body += piece["lines"][1:]
            # pyx12 acknowledges a set A or R (IK501, error_handler.err_st); R when any part found an error.
            ack = next((piece["ack"] for piece in pieces if piece["ack"] != "A"), "A")
            codes = sorted({code for piece in pieces for code in piece["codes"]})
            body.append("*".join(["IK5", ack, *codes[:5]]) + "~")
            failed += ack not in ("A", "E")
        ak9 = [
            "AK9",
            "R" if failed else "A",
            str(transactions),
            str(transactions),
            str(transactions - failed),
        ]
        body.append("*".join(ak9 + in_group[0]["ak9_codes"][:5]) + "~")
        body.append(f"SE*{len(body) + 1}*{number}~")
        out += body
    out.append(f"GE*{len(plan.groups)}*{gs[:-1].split('*')[6]}~")
    if last["ta1"]:
        out.append(last["ta1"])
    out.append(f"IEA*1*{isa[:-1].split('*')[13]}~")
    return "\n".join(out) + "\n"


# --- In one process ------------------------------------------------------------------------------------------


def validate_837_in_parts(path: Path, *, part_claims: int = DEFAULT_PART_CLAIMS) -> ValidationReport:
    """``validate_837`` the parallel way in this process, one part after the other: the reference the Celery
    chord is held to, and what the tests compare with a single pyx12 run. A file the plan does not split is
    validated whole (``validate_837``). Raises as ``plan_parts`` and ``merge_parts`` do."""
    plan = plan_parts(path, part_claims=part_claims)
    if not plan.split:
        return validate_837(path)
    return merge_parts(path, plan, [validate_part(path, spec) for spec in plan.parts])
