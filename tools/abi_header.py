"""Write safetyrules/_evaluator_abi.h from safetyrules/ir/lowered.py (which numbers the lowered program
from the language table): run it after declaring an operator or a function, then rebuild the C
evaluator (pip install -e . --no-deps). tests/ir/test_lowered.py fails while the header is stale."""

from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from safetyrules.ir.lowered import HEADER_PATH, c_header  # noqa: E402

if __name__ == "__main__":
    with open(os.path.join(ROOT, HEADER_PATH), "w", encoding="utf-8") as fh:
        fh.write(c_header())
    print(f"wrote {HEADER_PATH}")
