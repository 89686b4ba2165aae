"""``python -m clinx_bulk`` is ``clinx bulk``."""

from clinx_bulk.cli import main

raise SystemExit(main())
