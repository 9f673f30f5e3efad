"""How long the test suite and the offline plan take, against their targets, on this machine.

    python -m tools.benchmark          # or: make bench

Targets: the whole suite within 40 s wall-clock on 2 cores with a warm venv, and the offline
plan of a stack within a few seconds. Kept out of the test suite (timings there would be flaky);
exits 1 when a target is missed.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from tools.engine.mock_engine import PROJECT_DIR, run_stack

SUITE_TARGET_SECONDS = 40.0
PLAN_TARGET_SECONDS = 5.0
ROUNDS = 5
STACKS = ("dev", "prod")


def suite_seconds() -> float:
    """Wall-clock time of the README's test command (`pytest`), run as CI runs it."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=PROJECT_DIR,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def main() -> int:
    missed = False
    suite = suite_seconds()
    missed |= suite > SUITE_TARGET_SECONDS
    print(f"test suite: {suite:.1f}s wall-clock (target {SUITE_TARGET_SECONDS:.0f}s)")
    start = time.perf_counter()
    run_stack("dev")  # the first run pays the imports (pulumi_aws alone is about a second)
    print(f"first plan, imports included: {time.perf_counter() - start:.2f}s")
    for stack in STACKS:
        timings = []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            resources = len(run_stack(stack).resources)
            timings.append(time.perf_counter() - start)
        median = statistics.median(timings)
        missed |= median > PLAN_TARGET_SECONDS
        print(
            f"plan of {stack}: {resources} resources, median {median:.2f}s over {ROUNDS} runs "
            f"(target {PLAN_TARGET_SECONDS:.0f}s)"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
