"""The engine's pure core: run plans and error policies. No Django imports."""
