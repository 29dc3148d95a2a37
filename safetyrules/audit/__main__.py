"""``python -m safetyrules.audit ARGS`` is ``safetyrules audit ARGS``."""

import sys
from typing import Optional, Sequence

from ..cli import main as _cli_main


def main(argv: Optional[Sequence[str]] = None) -> int:
    return _cli_main(["audit", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
