"""Engine services: every execution and step-run state change happens here.

- :mod:`.tx` — the locked unit of work (execution row lock, events, dispatch).
- :mod:`.engine` — advancing a run: readiness, skips, composites, dispatch, finalize.
- :mod:`.steps` — claim, complete and fail a step run (fenced by attempt).
- :mod:`.lifecycle` — start, cancel, time out and resume executions.
- :mod:`.runner` — the worker side: resolve inputs, run the handler, measure.
- :mod:`.reaper` — the periodic backstop for lost workers and lost messages.
"""
