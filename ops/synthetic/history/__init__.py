"""Synthetic data at scale: a realistic plan's claims, members and providers with adjudicated history, loaded
with COPY.

``generate.demo_data_generate`` is the entry point (``manage.py generate_demo_data``); ``people`` and
``claim_rows`` build the rows, ``copy_text`` the COPY text format and the column lists (from the models),
``db`` the catalog SQL and load steps. Code lists and weights come from ``ops.synthetic.reference``. Callers
import from the submodules; this module imports nothing.
"""
