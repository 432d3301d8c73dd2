"""Synthetic data: tools of the platform, never part of it (production modules do not import this package).

* ``reference``: the one set of code lists and weights both generators draw from.
* ``values``: X12-safe text and valid NPIs, shared by both.
* ``x12_files``: the 837P demo universe and files (``manage.py generate_demo_837``), built as the X12
  writer's input types (``claims.x12.model``).
* ``history``: a whole plan's claims, members and providers with two years of adjudicated history, loaded
  with COPY (``manage.py generate_demo_data``).

Callers import from the submodules; this module imports nothing, so no submodule can form a cycle with it.
"""
