"""The AWS regions a stack may name, by partition.

From the endpoint list AWS ships with its SDKs (botocore's `data/endpoints.json`, November 2026).
A region AWS opens later is added here; until then `aws:region` refuses it with a clear error
instead of a provider failure halfway through `pulumi up`.
"""

from __future__ import annotations

PARTITION_REGIONS: dict[str, tuple[str, ...]] = {
    "aws": (
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ca-central-1",
        "ca-west-1",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "mx-central-1",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
    ),
    "aws-cn": ("cn-north-1", "cn-northwest-1"),
    "aws-us-gov": ("us-gov-east-1", "us-gov-west-1"),
}
REGIONS: dict[str, str] = {
    region: partition for partition, regions in PARTITION_REGIONS.items() for region in regions
}


def partition_of(region: str) -> str:
    """The partition (`aws`, `aws-cn`, `aws-us-gov`) that ARNs in `region` start with."""
    return REGIONS.get(region, "aws")
