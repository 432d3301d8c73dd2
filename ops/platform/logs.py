"""Logging filters that keep PHI out of the server's logs (45 CFR 164.312(b)).

``ScrubQueryString`` is on the ``django.server`` logger (runserver's access log, ``make serve``): a request line
``GET /admin/members/member/?q=FRYE HTTP/1.1`` is logged as ``GET /admin/members/member/?… HTTP/1.1``. Search
terms are names and numbers; the audit trail keeps them (``AuditEvent.search_term``), the access log does not.
Under gunicorn use an access-log format with ``%(U)s`` (the path without its query) instead of ``%(r)s``.
"""

from __future__ import annotations

import logging
import re

# The query string of a request line: from "?" up to the space before the protocol (or the end).
_QUERY = re.compile(r"\?[^ ]*")


class ScrubQueryString(logging.Filter):
    """Replaces the query string of the request line in an access-log record by "?…"."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args and isinstance(record.args[0], str):
            record.args = (_QUERY.sub("?…", record.args[0], count=1), *record.args[1:])
        elif isinstance(record.msg, str) and "?" in record.msg and not record.args:
            record.msg = _QUERY.sub("?…", record.msg, count=1)
        return True
