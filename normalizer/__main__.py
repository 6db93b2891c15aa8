"""``python -m normalizer`` is the ``normalizer`` command."""

import sys

from normalizer.cli import main

sys.exit(main())
