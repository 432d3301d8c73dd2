"""Synthetic data at scale: a realistic plan's claims, members and providers, loaded with COPY.

``demo_data_generate`` (in ``generate``) is the entry point; ``people`` and ``claim_rows`` build the rows,
``reference`` holds the code lists and weights, ``db`` the catalog SQL and load steps.
"""

from claims.services.demo_data.generate import GenerationReport, demo_data_generate

__all__ = ["GenerationReport", "demo_data_generate"]
