"""The shared floor: what every app uses, and nothing that knows a domain app.

Bottom to top the layers are ``config`` → ``ops.platform`` (this package) → ``members`` / ``providers`` →
``claims`` → ``analytics`` → the ops reports and jobs (the rest of ``ops``). The floor imports no domain app and
nothing else of ``ops``; ``pyproject.toml`` declares that as import-linter contracts (``make lint``).

* ``partitioning``: the partitioned-model base, the one registry of partitioned tables (keyed by model) and the
  one function that creates a monthly partition;
* ``locks``: the one advisory-lock helper (transaction- and session-level, with ``lock_timeout``);
* ``models`` / ``audit``: the audit trail (``AuditEvent``, ``audit_record``, the admin mixin) and the run-log
  outcome vocabulary (``RunOutcome``);
* ``paginators``: the admin kit for tables too big to count;
* ``plans``: EXPLAIN (FORMAT JSON) helpers that the EXPLAIN page, the advisor and the benchmark share;
* ``binding``: a server-side-binding cursor and COPY staging for statements that carry large arrays;
* ``workers``: the process pool of jobs that split their work across CPUs.
"""
