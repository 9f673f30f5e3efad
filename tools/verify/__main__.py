"""The offline plan judged by the real AWS provider (hashicorp/aws, the provider pulumi-aws is
bridged from), with no account and no network.

    python -m tools.verify dev prod               # or: make verify STACK=dev
    python -m tools.verify --variants --second-up # what CI runs besides the stacks

For each stack, builds the offline plan (as `make plan`, written to `build/plan-STACK.json`),
turns it into Terraform JSON and runs `terraform validate` and `terraform plan -refresh=false`
on it: the provider's own argument checks, conflicts and plan-time decisions. Every provider
error is printed under the Pulumi resource and the stack-file key that produced it. An input
the provider does not know is version skew: reported, and failing unless `tools/verify/skew.py`
lists it with a reason.

`--variants` adds a first `up` of each feature a stack file can turn on
(`tools/verify/matrix.py`); `--second-up` plans each change of the matrix against the state a
first `up` leaves, and fails where the provider's create/update/replace/delete of a resource
differs from `make diff`'s without a Pulumi-level reason.

Exit status: 0 the provider accepts every plan (and agrees with make diff); 3 a provider error,
unlisted version skew or a disagreement; 2 a stack's config was refused, or Terraform or the
provider is not installed (the message says what to install); 1 the check itself crashed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from tools.engine.mock_engine import PROJECT_DIR
from tools.verify.matrix import CHANGES, VARIANTS, Variant
from tools.verify.runner import (
    WORK,
    Outcome,
    VariantRefusedError,
    first_up,
    plan_variant,
    second_up,
)
from tools.verify.second_up import NotConvergedError, PlanFailedError
from tools.verify.terraform import Terraform, ToolMissingError

CONFIG_REFUSED = 2
PROVIDER_FAILED = 3


def _report(title: str, outcome: Outcome, seconds: float) -> None:
    errors = [f for f in outcome.findings if f.severity == "error"]
    status = "FAILED" if outcome.failed else "passed"
    print(f"{title}: {status} ({seconds:.0f} s)")
    for line in outcome.lines:
        print(line)
    for finding in outcome.findings:
        print(finding)
    for where in outcome.unlisted_skew:
        print(
            f"version skew: {where}: the provider here does not know it; list it in "
            "tools/verify/skew.py with the reason it is safe to leave out, or fix the input"
        )
    if errors:
        print(f"{len(errors)} provider error(s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stacks", nargs="*", help="stack names: read Pulumi.<stack>.yaml")
    parser.add_argument("--variants", action="store_true", help="also each feature's variant")
    parser.add_argument(
        "--second-up", action="store_true", help="also the second-up matrix against make diff"
    )
    parser.add_argument(
        "--only", nargs="+", metavar="KEY", help="only these variants and second-up cases"
    )
    parser.add_argument("--jobs", type=int, default=2, help="Terraform plans run side by side")
    args = parser.parse_args(argv)
    if not (args.stacks or args.variants or args.second_up):
        parser.error("name a stack (dev, prod), or --variants or --second-up")
    try:
        WORK.mkdir(parents=True, exist_ok=True)
        terraform = Terraform.find(WORK)
        schema = terraform.schema()
    except ToolMissingError as missing:
        print(f"make verify: {missing}", file=sys.stderr)
        if os.environ.get("CI") == "true":
            print("make verify: CI=true: the check cannot be skipped here", file=sys.stderr)
        return CONFIG_REFUSED
    wanted = set(args.only or [])
    variants = [Variant(stack, stack) for stack in args.stacks]
    if args.variants:
        variants += [v for v in VARIANTS if not wanted or v.key in wanted]
    cases = [c for c in CHANGES if not wanted or c.key in wanted] if args.second_up else []
    failed = False
    try:
        if variants:
            start = time.monotonic()
            planned = [plan_variant(v) for v in variants]
            for p in planned[: len(args.stacks)]:
                out = PROJECT_DIR / "build" / f"plan-{p.variant.stack}.json"
                out.write_text(json.dumps(p.plan, indent=2, sort_keys=True) + "\n")
            outcome = first_up(terraform, schema, planned, jobs=args.jobs)
            _report(
                f"first up of {len(planned)} stack(s) and variant(s)",
                outcome,
                time.monotonic() - start,
            )
            failed |= outcome.failed
        if cases:
            start = time.monotonic()
            outcome = second_up(terraform, schema, cases, jobs=args.jobs)
            _report(f"second up of {len(cases)} change(s)", outcome, time.monotonic() - start)
            failed |= outcome.failed
    except VariantRefusedError as refused:
        print(f"error: {refused}", file=sys.stderr)
        return CONFIG_REFUSED
    except (PlanFailedError, NotConvergedError) as error:
        print(f"error: {error}", file=sys.stderr)
        return PROVIDER_FAILED
    return PROVIDER_FAILED if failed else 0


if __name__ == "__main__":
    sys.exit(main())
