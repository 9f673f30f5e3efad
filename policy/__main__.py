"""webstack's policy pack: `pulumi preview --policy-pack policy` (add
`--policy-pack-config policy/production.json` for production stacks)."""

import sys
from pathlib import Path

# The pack runs from this folder; its modules are imported as the `policy` package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pulumi_policy import PolicyPack

from policy.pack import policies

PolicyPack("webstack-security", policies())
