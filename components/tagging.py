"""The AWS provider every component deploys through, carrying the stack's tags as default tags.

Provider default tags reach every taggable resource, including ones a component adds later,
without each component having to remember a `tags` argument.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws


def base_tags(project: str, stack: str) -> dict[str, str]:
    """The tags webstack itself puts on everything; a stack's own tags may not replace them."""
    return {"project": project, "stack": stack, "managed-by": "pulumi"}


BASE_TAG_KEYS = tuple(base_tags("", ""))


def stack_tags(extra: Mapping[str, str]) -> dict[str, str]:
    """The stack's own `webstack:tags`, then `project`, `stack` and `managed-by`."""
    return {**extra, **base_tags(pulumi.get_project(), pulumi.get_stack())}


def aws_provider(region: str, extra_tags: Mapping[str, str], name: str = "aws") -> aws.Provider:
    """An explicit provider for a region with the stack's default tags."""
    return aws.Provider(
        name,
        region=region,
        default_tags=aws.ProviderDefaultTagsArgs(tags=stack_tags(extra_tags)),
    )
