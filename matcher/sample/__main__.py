"""``python -m matcher.sample --out DIR [options]``: write the seeded sample dataset."""

import sys

from matcher.sample.generator import main

sys.exit(main())
