"""``python -m safetyrules.service serve ...``: the ``safetyrules`` command (an entry point, so it may import the CLI)."""

import sys

from ..cli import main

if __name__ == "__main__":
    sys.exit(main())
