"""``python -m prsm``: the command line."""

from prsm.cli import main

raise SystemExit(main())
