"""Before/after benchmark of the platform's critical queries (``manage.py benchmark``).

Every catalog query is written once, as parameterized SQL with unqualified table names, and timed twice in one
run: under ``search_path = bench_baseline, public`` (the same tables with primary keys only, no partitions, no
other indexes: the "before" of the field documents) and under ``search_path = public`` (the platform: its
indexes and monthly partitions). Modules:

* ``catalog``: the query registry (``CATALOG``; the analytics queries with their view variants) and the admin
  requests (``ADMIN_REQUESTS``).
* ``params``: query parameters picked deterministically from the data (which member, month, code, plan).
* ``baseline``: builds, checks and drops the ``bench_baseline`` schema.
* ``ops.platform.plans`` (the shared floor, not here): one ``EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`` per
  query and schema, summarised.
* ``ingest``: claims/s of ``ingest_837 --no-validate`` in a scratch database, and of pyx12 validation, on
  files from ``ops.synthetic.x12_files``.
* ``refresh``: the analytics views' and summaries' refresh durations, full and incremental.
* ``pages``: every analytics URL through the test client, with its SQL statements timed.
* ``decisions``: adjudication claims/s, examiner actions, the admin work queue and 835s (with pyx12 validation),
  in one transaction rolled back at the end.
* ``stats``: percentiles and timing summaries.
* ``runner``: timing, ``search_path`` switching, the view variants, the admin requests, the whole run.
* ``report``: the JSON and markdown files in ``bench/results/``.

A tool of the platform, not part of it: no production module imports this package.
"""
