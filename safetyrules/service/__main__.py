"""``python -m safetyrules.service serve ...``: the service's commands without the ``safetyrules`` command."""

import sys

from .command import main

if __name__ == "__main__":
    sys.exit(main())
