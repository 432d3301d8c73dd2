"""Auto-adjudication of professional claims (payer side): the edits, pricing and the pure decision engine.

``edits`` is the table of edits with their CARC / RARC / group codes, ``pricing`` the allowed amount and the
member's cost share, ``engine`` the decision of one claim from plain facts. The service that reads the facts,
keeps the accumulators and writes the decisions through the claim-lifecycle writer is
``claims.services.adjudication``.
"""
