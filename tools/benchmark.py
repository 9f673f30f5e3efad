"""How long the test suite and the offline plan take, against their targets, on this machine.

    python -m tools.benchmark          # or: make bench

Targets: the whole suite within 40 s wall-clock on 2 cores with a warm venv, the offline
plan of a stack within a few seconds, and CI's `make verify` step (shipped stacks, variants and
the second-up matrix, the provider already installed) within 4 minutes. Kept out of the test
suite (timings there would be flaky); exits 1 when a target is missed.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from tools.engine.mock_engine import PROJECT_DIR, run_stack

SUITE_TARGET_SECONDS = 40.0
PLAN_TARGET_SECONDS = 5.0
VERIFY_TARGET_SECONDS = 240.0
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


def verify_seconds() -> float | None:
    """Wall-clock time of CI's verify step, or None where Terraform or the provider is missing."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "tools.verify", *STACKS, "--variants", "--second-up"],
        cwd=PROJECT_DIR,
        check=False,
        stdout=subprocess.DEVNULL,
    )
    if done.returncode == 2:
        return None
    if done.returncode != 0:
        raise SystemExit(f"tools.verify failed (exit {done.returncode}): run make verify")
    return time.perf_counter() - start


def main() -> int:
    missed = False
    verify = verify_seconds()
    if verify is None:
        print("make verify: not timed (Terraform or the provider is missing; see above)")
    else:
        missed |= verify > VERIFY_TARGET_SECONDS
        print(
            f"make verify (stacks, variants, second-up matrix): {verify:.0f}s wall-clock "
            f"(target {VERIFY_TARGET_SECONDS:.0f}s)"
        )
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
