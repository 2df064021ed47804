"""``python -m davprovider``: same as the ``davprovider`` console script."""

from davprovider.cli import main

raise SystemExit(main())
