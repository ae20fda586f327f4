"""What an operator reads: health (``/healthz``, ``/readyz``), Prometheus metrics
(``/metrics``) and the workers view (``GET /api/v1/workers``, ``/workers/``).

Everything that must be the same whichever process answers is read at request
time from PostgreSQL and the broker's Redis: the worker registry
(``executions.workers``), queue lengths, and the counters in ``counters``.
"""
