"""Known version skew: inputs pulumi-aws 7 sends that the provider here (hashicorp/aws 5.100, while
pulumi-aws 7 tracks v6) does not know. Each entry says why it is safe to leave out of the check;
anything else the schema lacks fails `make verify`.

Keyed by (Pulumi type, input path with list indices as `[]`).
"""

from __future__ import annotations

KNOWN_SKEW: dict[tuple[str, str], str] = {}
