"""`python -m lunaroute ...` is the `lunaroute` command."""

import sys

from .cli.main import main

sys.exit(main())
