"""python manage.py ingest_837 PATH... — load 837P files (or folders of them) into the claim tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from claims.models import ValidationOutcome
from claims.services.ingest import batch_ingest
from claims.services.lifecycle import StatusConflict
from claims.services.validation import batch_validate
from ops.platform.locks import LockTimeout


def _files(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            out.extend(sorted(f for f in path.rglob("*") if f.is_file() and not f.name.startswith(".")))
        elif path.is_file():
            out.append(path)
        else:
            raise CommandError(f"{p}: no such file or directory")
    return out


class Command(BaseCommand):
    help = "Ingest ASC X12 837P (005010X222A1) files; folders are read recursively."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", help="837P files or folders")
        parser.add_argument(
            "--no-validate",
            action="store_true",
            help="load only; skip pyx12 implementation-guide validation (claims stay 'received')",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        files = _files(options["paths"])
        totals = {"files": 0, "claims": 0, "lines": 0, "warnings": 0, "rejected": 0, "skipped": 0, "retry": 0}
        rejections: list[str] = []
        retries: list[str] = []
        bar = tqdm(files, unit="file", disable=options["no_progress"] or len(files) < 2, file=self.stderr)
        for path in bar:
            claim_bar: tqdm | None = None

            def progress(done: int, total: int, path: Path = path) -> None:
                # A per-file bar (bytes read) only for big files, where a single file takes more than a moment.
                nonlocal claim_bar
                if options["no_progress"] or total < 10_000_000:
                    return
                if claim_bar is None:
                    claim_bar = tqdm(
                        total=total, unit="B", unit_scale=True, desc=path.name, leave=False, file=self.stderr
                    )
                claim_bar.update(done - claim_bar.n)

            try:
                result = batch_ingest(path=path, progress=progress)
            except (StatusConflict, LockTimeout) as exc:
                # Not a bad file: another writer got there first. Nothing of it was written; load it again.
                totals["files"] += 1
                totals["retry"] += 1
                retries.append(f"{path}: {exc}; nothing written, ingest it again")
                bar.write(f"RETRY {retries[-1]}")
                continue
            finally:
                if claim_bar is not None:
                    claim_bar.close()
            totals["files"] += 1
            if not result.created:
                totals["skipped"] += 1
                bar.write(f"{path}: already ingested as batch {result.batch.id}; nothing created")
                continue
            if result.rejected:
                totals["rejected"] += 1
                rejections.append(result.error)
                bar.write(f"REJECTED {result.error}")
                continue
            totals["claims"] += result.claims
            totals["lines"] += result.lines
            totals["warnings"] += result.warnings
            line = (
                f"{path}: batch {result.batch.id}, {result.claims} claims, {result.lines} lines, "
                f"${result.total_charge}, {result.warnings} warnings"
            )
            if result.duplicates:
                line += f", {result.duplicates} exact duplicates denied (CARC 18)"
            if not options["no_validate"]:
                batch = batch_validate(batch_id=result.batch.id, path=path)
                status = batch.validation_status
                if status == ValidationOutcome.PENDING:
                    # Big files go to the Celery workers in parts; their merge records the 999 (validate_batches).
                    status = "sent to the workers in parts (validate_batches --pending waits for them)"
                line += f", pyx12: {status}"
            bar.write(line)
        self.stdout.write(
            "files {files}, claims {claims}, lines {lines}, warnings {warnings}, rejected {rejected}, "
            "already ingested {skipped}, to retry {retry}".format(**totals)
        )
        if rejections or retries:
            raise CommandError(
                "\n".join(
                    ([f"{len(rejections)} file(s) rejected:", *rejections] if rejections else [])
                    + ([f"{len(retries)} file(s) to ingest again:", *retries] if retries else [])
                )
            )
