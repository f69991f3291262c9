"""`python -m tuneline` is the `tuneline` command."""

from tuneline.cli import main

raise SystemExit(main())
