"""``python -m clinx_cli``: the ``clinx`` command without its console script."""

from clinx_cli import main

raise SystemExit(main())
