"""pyx12 validation in parts (claims.x12.split, the chord in claims.tasks) gives what one pyx12 run gives.

The merged 999 is compared with a single-process ``validate_837`` run apart from what pyx12 takes from the
clock and a random draw on every run (ISA09/ISA10/ISA13, GS04/GS05/GS06, GE02, IEA02: ``_stamp_free``), the
errors and the outcome exactly: on every shared 837P sample (split as finely as they allow), and on generated
files split into several parts, with errors planted in different parts and at a cut.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest
from django.test import override_settings
from django_celery_results.models import TaskResult

from analytics.tests.test_worker import worker  # noqa: F401 - the real Celery worker fixture, reused
from claims.models import Claim, ClaimStatus, IngestBatch, ValidationOutcome
from claims.services.ingest import batch_ingest
from claims.services.validation import batch_validate
from claims.x12 import split, validation
from claims.x12.split import merge_parts, plan_parts, validate_837_in_parts, validate_part
from claims.x12.validation import ValidationReport, validate_837
from claims.x12.writer import write_837p_to
from ops.synthetic.x12_files import (
    RECEIVER_ID,
    SENDER_ID,
    build_universe,
    generate_demo_files,
    iter_demo_claims,
)

# A billing provider's REF*EI longer than REF02 allows (50): pyx12 copies it into the 999's IK404 (as it would
# a member's name), and nowhere else may it go. Ingest reads REF*EI only when it is a 9-digit EIN.
PLANTED_VALUE = "PLANTEDVALUE" + "X" * 50


def _stamp_free(ack: str) -> str:
    """``ack`` without the fields pyx12 draws from the clock or at random on every run."""
    out = []
    for line in ack.split("\n"):
        elements = line.rstrip("~").split("*")
        if elements[0] == "ISA" and len(elements) > 13:
            elements[9] = elements[10] = elements[13] = "-"
        elif elements[0] == "GS" and len(elements) > 6:
            elements[4] = elements[5] = elements[6] = "-"
        elif elements[0] in ("GE", "IEA") and len(elements) > 2:
            elements[2] = "-"
        out.append("*".join(elements))
    return "\n".join(out)


def _assert_same(parts: ValidationReport, whole: ValidationReport) -> None:
    assert _stamp_free(parts.ack_999) == _stamp_free(whole.ack_999)
    assert parts.errors == whole.errors
    assert (parts.outcome, parts.crashed) == (whole.outcome, whole.crashed)


def _segments(path: Path) -> list[str]:
    return path.read_text().split("~\n")


def _write(path: Path, segments: list[str]) -> Path:
    """Write ``segments`` back with right SE01 counts (so a planted change keeps its set splittable)."""
    count = 0
    out = []
    for segment in segments:
        if segment.startswith("ST*"):
            count = 1
        elif segment.startswith("SE*"):
            count += 1
            elements = segment.split("*")
            elements[1] = str(count)
            segment = "*".join(elements)
        elif segment.strip() and not segment.startswith(("ISA", "GS*", "GE*", "IEA")):
            count += 1
        out.append(segment)
    path.write_text("~\n".join(out))
    return path


def _part_of(plan: split.SplitPlan, position: int) -> int:
    return next(p.index for p in plan.parts if p.body.first <= position <= p.body.last)


# --- Shared samples ---------------------------------------------------------------------------------------


def _samples() -> list[str]:
    from conftest import SHARED_X12

    return sorted(str(p.relative_to(SHARED_X12)) for p in (SHARED_X12 / "837P").rglob("*") if p.is_file())


@pytest.mark.parametrize("sample", _samples())
def test_each_shared_837p_sample_validates_in_parts_as_it_does_whole(shared_x12: Path, sample: str) -> None:
    # One claim per part: as many cuts as the sample allows.
    path = shared_x12 / sample

    _assert_same(validate_837_in_parts(path, part_claims=1), validate_837(path))


def test_samples_with_several_claims_are_split_where_their_envelopes_allow(shared_x12: Path) -> None:
    # OopFactory's five claims under five 2000B loops of one transaction set: five parts, each after the first
    # repeating the 2000A billing provider.
    missing = plan_parts(shared_x12 / "837P/oopfactory/MissingEntityCode.txt", part_claims=1)
    assert len(missing.parts) == 5
    assert [p.starts_inside for p in missing.parts] == [False, True, True, True, True]
    assert all(len(p.ancestors) == 1 for p in missing.parts[1:])
    # Two interchanges: one part each.
    assert len(plan_parts(shared_x12 / "837P/imsweb/x12_multiple_isa.txt", part_claims=1).parts) == 2
    # Two transaction sets with the same ST02 in one group: pyx12 reports it only if it sees both.
    repeated = plan_parts(shared_x12 / "837P/imsweb/x12_multiple_st.txt", part_claims=1)
    assert repeated.parts == [] and "ST02" in repeated.whole_file_reason
    # HL numbering that pyx12 finds wrong: the transaction set stays whole.
    assert len(plan_parts(shared_x12 / "837P/imsweb/x12_many_claims.txt", part_claims=1).parts) == 1


# --- Generated files --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def one_big_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """600 generated claims in ONE transaction set (the writer starts a new one only after 5,000)."""
    (demo,) = generate_demo_files(
        tmp_path_factory.mktemp("big"), files=1, claims_per_file=600, seed=3, as_of=dt.date.today()
    )
    assert demo.transactions == 1
    return demo.path


def _plant(segments: list[str], plan: split.SplitPlan, *, ingestable: bool = False) -> dict[str, int]:
    """Plant errors in different parts and at the first two cuts; returns {what: position} (1-based segment
    numbers before any segment is deleted). ``ingestable``: only errors the ingest accepts (it needs every
    service line's DTP*472)."""
    cuts = [p.body.first for p in plan.parts if p.starts_inside]
    clm = [i + 1 for i, s in enumerate(segments) if s.startswith("CLM*")]
    sv1 = [i + 1 for i, s in enumerate(segments) if s.startswith("SV1*")]
    provider = next(
        i + 1
        for i, s in enumerate(segments)
        if s.startswith("HL*") and s.endswith("*20*1") and i + 1 > plan.parts[1].body.first
    )
    planted = {
        "long_value": provider + 5,  # a 2000A's REF*EI: IK403:5, the value copied into IK404
        "bad_facility_code": clm[len(clm) // 2],  # CLM05-2 not a valid code: IK403:7
        "bad_unit": sv1[-10],  # SV103 not a valid code
        "bad_hl04_at_cut": cuts[
            1
        ],  # the first segment after a cut: found there in a part, so validated again
    }
    assert segments[provider + 4].startswith("REF*EI*")
    segments[provider + 4] = f"REF*EI*{PLANTED_VALUE}"
    clm_elements = segments[planted["bad_facility_code"] - 1].split("*")
    clm_elements[5] = "11:Q:1"
    segments[planted["bad_facility_code"] - 1] = "*".join(clm_elements)
    segments[planted["bad_unit"] - 1] = segments[planted["bad_unit"] - 1].replace("*UN*", "*QQ*")
    hl = segments[planted["bad_hl04_at_cut"] - 1].split("*")
    hl[4] = "7"  # HL04 hierarchical child code: 0 or 1
    segments[planted["bad_hl04_at_cut"] - 1] = "*".join(hl)
    if not ingestable:
        # The last DTP*472 before the first cut: pyx12 reports a missing mandatory segment when it leaves the
        # loop, at the next segment, which in a part is the rebuilt SE.
        planted["missing_before_cut"] = cuts[0] - 1
        assert segments[cuts[0] - 2].startswith("DTP*472")
        del segments[cuts[0] - 2]
    return planted


def test_a_generated_set_split_in_parts_with_errors_planted_in_different_parts_merges_to_one_run(
    one_big_set: Path, tmp_path: Path
) -> None:
    clean = plan_parts(one_big_set, part_claims=150)
    assert len(clean.parts) >= 4 and all(p.starts_inside for p in clean.parts[1:])
    segments = _segments(one_big_set)
    planted = _plant(segments, clean)
    assert len({_part_of(clean, position) for position in planted.values()}) >= 3
    path = _write(tmp_path / "planted.837", segments)
    plan = plan_parts(path, part_claims=150)
    assert len(plan.parts) == len(clean.parts)

    results = [validate_part(path, spec) for spec in plan.parts]
    # Both cuts with a planted error are seen as such: those parts are validated again, joined, by the merge.
    assert [r["index"] for r in results if r["unclean_end"]] == [0]
    assert [r["index"] for r in results if r["unclean_start"]] == [2]
    parts = merge_parts(path, plan, results)
    whole = validate_837(path)

    _assert_same(parts, whole)
    assert whole.outcome == ValidationOutcome.REJECTED
    codes = {e["code"] for e in whole.errors}
    assert {"IK403:5", "IK403:7", "IK304:3"} <= codes
    assert f"*{PLANTED_VALUE}~" in parts.ack_999  # IK404, read back from the file by the merge


def test_the_parts_results_and_the_plan_carry_no_element_value(one_big_set: Path, tmp_path: Path) -> None:
    segments = _segments(one_big_set)
    plan = plan_parts(one_big_set, part_claims=150)
    _plant(segments, plan)
    path = _write(tmp_path / "planted.837", segments)
    plan = plan_parts(path, part_claims=150)

    results = [validate_part(path, spec) for spec in plan.parts]

    sent = json.dumps([plan.to_json(), [spec.to_json() for spec in plan.parts], results])
    assert "PLANTEDVALUE" not in sent
    assert any(tx["values"] for result in results for tx in result["transactions"])


def test_a_segment_out_of_place_is_reported_without_its_elements(one_big_set: Path, tmp_path: Path) -> None:
    # pyx12 names a segment it cannot place by its first element ("Segment N3*<street> not found").
    segments = _segments(one_big_set)
    clm = next(i for i, s in enumerate(segments) if s.startswith("CLM*") and i > 2000)
    segments.insert(clm + 1, "N3*PLANTEDSTREET 1")
    path = _write(tmp_path / "n3.837", segments)
    plan = plan_parts(path, part_claims=150)

    whole = validate_837(path)
    results = [validate_part(path, spec) for spec in plan.parts]

    assert any(e["message"].startswith("Segment N3*… not found.  Started at /ISA_LOOP") for e in whole.errors)
    assert "PLANTEDSTREET" not in json.dumps([whole.errors, results])
    _assert_same(merge_parts(path, plan, results), whole)


def test_several_transaction_sets_are_cut_between_and_inside_them(tmp_path: Path) -> None:
    universe = build_universe(seed=11, claims_hint=240)
    path = tmp_path / "multi.837"
    with path.open("w", encoding="ascii", newline="") as out:
        write_837p_to(
            out,
            iter_demo_claims(universe, count=240),
            sender_id=SENDER_ID,
            receiver_id=RECEIVER_ID,
            control_number=42,
            created=dt.datetime(2026, 1, 2, 3, 4),
            max_claims_per_transaction=70,
        )
    inside = plan_parts(path, part_claims=40)
    between = plan_parts(path, part_claims=70)
    assert inside.groups == between.groups == [4]
    # 40 claims a part: cuts inside the sets, and parts holding the end of one set and the start of the next.
    assert any(p.starts_inside for p in inside.parts) and any(p.first_st != p.last_st for p in inside.parts)
    # 70 claims a part, 70 a set: one part per set, cut between them.
    assert [(p.first_st, p.last_st, p.starts_inside) for p in between.parts] == [
        (0, 0, False),
        (1, 1, False),
        (2, 2, False),
        (3, 3, False),
    ]

    whole = validate_837(path)
    _assert_same(validate_837_in_parts(path, part_claims=40), whole)
    _assert_same(validate_837_in_parts(path, part_claims=70), whole)


def test_a_set_pyx12_would_count_differently_in_parts_stays_whole(one_big_set: Path, tmp_path: Path) -> None:
    segments = _segments(one_big_set)
    lx = [i for i, s in enumerate(segments) if s.startswith("LX*")]
    segments[lx[len(lx) // 2]] = "LX*9"  # pyx12 counts LX01 per claim: this one is wrong
    path = _write(tmp_path / "lx.837", segments)

    plan = plan_parts(path, part_claims=150)

    assert len(plan.parts) == 1 and not plan.split
    _assert_same(validate_837_in_parts(path, part_claims=150), validate_837(path))


def test_planning_reads_in_chunks_and_gives_the_same_plan(
    one_big_set: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = plan_parts(one_big_set, part_claims=150)
    monkeypatch.setattr(validation, "_CHUNK", 97)
    monkeypatch.setattr(split, "_CHUNK", 89)

    assert plan_parts(one_big_set, part_claims=150) == expected


# --- Batches, on a real worker ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_batch_validate_without_a_worker_validates_in_this_process(one_big_set: Path) -> None:
    result = batch_ingest(path=one_big_set)
    assert not result.rejected, result.error

    with override_settings(CLAIMS_VALIDATION_PART_CLAIMS=150):
        batch = batch_validate(batch_id=result.batch.id, path=one_big_set)

    assert batch.validation_status == ValidationOutcome.ACCEPTED
    assert set(Claim.objects.values_list("status", flat=True)) == {ClaimStatus.VALIDATED}
    assert not TaskResult.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_batch_is_validated_in_parts_by_a_real_worker_as_one_run_would(
    worker,  # noqa: F811 - the fixture imported above
    one_big_set: Path,
    tmp_path: Path,
) -> None:
    segments = _segments(one_big_set)
    plan = plan_parts(one_big_set, part_claims=150)
    _plant(segments, plan, ingestable=True)
    path = _write(tmp_path / "planted.837", segments)
    result = batch_ingest(path=path)
    assert not result.rejected, result.error
    whole = validate_837(path)

    with override_settings(CLAIMS_VALIDATION_PART_CLAIMS=150):
        sent = batch_validate(batch_id=result.batch.id, path=path)
    assert sent.validation_status == ValidationOutcome.PENDING
    deadline = time.monotonic() + 180
    batch = IngestBatch.objects.get(pk=result.batch.id)
    while batch.validated_at is None:
        assert worker.poll() is None, "worker died"
        assert time.monotonic() < deadline, list(TaskResult.objects.values_list("task_name", "status"))
        time.sleep(0.5)
        batch.refresh_from_db()

    assert _stamp_free(batch.ack_999) == _stamp_free(whole.ack_999)
    assert batch.validation_errors == whole.errors
    assert batch.validation_status == whole.outcome == ValidationOutcome.REJECTED
    assert set(Claim.objects.values_list("status", flat=True)) == {ClaimStatus.PENDED}
    tasks = TaskResult.objects.values_list("task_name", "status", "task_args", "task_kwargs", "result")
    names = [name for name, *_ in tasks]
    assert names.count("claims.tasks.validate_part") == len(plan_parts(path, part_claims=150).parts) >= 4
    assert names.count("claims.tasks.validate_merge") == 1
    assert {status for _n, status, *_ in tasks} == {"SUCCESS"}
    # Nothing the workers were sent or sent back holds the planted value; the 999 on the batch does.
    assert not any("PLANTEDVALUE" in str(row) for row in tasks)
    assert PLANTED_VALUE in batch.ack_999


@pytest.mark.django_db(transaction=True)
def test_the_benchmark_times_validation_on_one_and_two_real_worker_processes(tmp_path: Path) -> None:
    from analytics.tests.test_worker import TEST_BROKER
    from config.celery import app
    from ops.benchmark.validation import run_validation_benchmark
    from tests.processes import celery_broker

    lines: list[str] = []
    with celery_broker(app, TEST_BROKER):
        bench = run_validation_benchmark(workdir=tmp_path, claims=90, part_claims=30, log=lines.append)

    assert (bench.claims, bench.parts) == (90, 3)
    assert [(run.workers, run.outcome, run.errors) for run in bench.runs] == [
        (1, "accepted", 0),
        (2, "accepted", 0),
    ]
    assert all(run.claims_per_second > 0 for run in bench.runs)
    assert bench.runs[1].claims_per_second_per_worker == pytest.approx(
        bench.runs[1].claims_per_second / 2, abs=0.1
    )
    assert any(line.startswith("validation claims/s, 2 workers: ") and "per worker" in line for line in lines)
    assert not TaskResult.objects.exists()  # the chord's rows are deleted afterwards
