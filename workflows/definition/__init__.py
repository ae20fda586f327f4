"""The pure core of workflow definitions (no Django here).

- :mod:`.schema` — pydantic models of the definition document, and its JSON Schema;
- :mod:`.references` — ``${...}`` references: parsing, finding, rendering;
- :mod:`.graph` — dependencies, cycles, topological order, critical path;
- :mod:`.conditions` — CEL conditions over references;
- :mod:`.validation` — every problem in a document, as readable issues;
- :mod:`.estimate` — cost and duration estimates;
- :mod:`.templating` — template parameters and ``${template.*}`` substitution.

Nothing in this package may import Django: it is unit-tested without a database
and used by the API, the engine and the SDK alike.
"""
