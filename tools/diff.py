"""`python -m tools.diff --base REF STACK...`: what a change does to each stack, offline (the code
is `tools/review/diff.py`). Kept at this path for `make diff` and the pull-request workflow."""

import sys

from tools.review.diff import main

if __name__ == "__main__":
    sys.exit(main())
