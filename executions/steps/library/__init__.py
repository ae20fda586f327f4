"""The function library beyond the basics in :mod:`executions.steps.functions`.

Importing :mod:`executions.steps.functions` imports these modules, which register
their functions: :mod:`.text` (regex_extract, select, relevance_filter),
:mod:`.web` (http_get, academic_search) and :mod:`.documents` (pdf_to_text).
"""
