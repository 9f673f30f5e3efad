"""`python -m tools.plan STACK`: the offline plan of a stack (the code is `tools/review/plan.py`).

Kept at this path because `make plan`, CI and `make diff` (which runs the plan of an older commit
by this name) call it so.
"""

import sys

from tools.review.plan import main

if __name__ == "__main__":
    sys.exit(main())
