"""How long the offline plan takes; the target is a few seconds per stack on 2 cores.

    python -m tools.benchmark          # or: make bench

Kept out of the test suite (timings there would be flaky); exits 1 when a stack misses it.
"""

from __future__ import annotations

import statistics
import sys
import time

from tools.engine import run_stack

TARGET_SECONDS = 5.0
ROUNDS = 5
STACKS = ("dev", "prod")


def main() -> int:
    start = time.perf_counter()
    run_stack("dev")  # the first run pays the imports (pulumi_aws alone is about a second)
    print(f"first run, imports included: {time.perf_counter() - start:.2f}s")
    slow = False
    for stack in STACKS:
        timings = []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            resources = len(run_stack(stack).resources)
            timings.append(time.perf_counter() - start)
        median = statistics.median(timings)
        slow |= median > TARGET_SECONDS
        print(
            f"{stack}: {resources} resources, median {median:.2f}s over {ROUNDS} runs "
            f"(target {TARGET_SECONDS:.0f}s)"
        )
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
