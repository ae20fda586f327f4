"""Step handlers, model providers and functions: what a step actually does.

One registry keyed by step type (:mod:`.registry`). Inference goes through model
providers (:mod:`.providers`); the other step types call registered functions
(:mod:`.functions`). Nothing a user types is executed as code.
"""
