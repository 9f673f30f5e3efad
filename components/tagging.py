"""The AWS provider every component deploys through, carrying the stack's tags as default tags.

Provider default tags reach every taggable resource, including ones a component adds later,
without each component having to remember a `tags` argument.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.settings import StackSettings


def stack_tags(settings: StackSettings) -> dict[str, str]:
    """`project`, `stack` and `managed-by` first, then the stack's own `webstack:tags`."""
    return {
        **settings.tags,
        "project": pulumi.get_project(),
        "stack": pulumi.get_stack(),
        "managed-by": "pulumi",
    }


def aws_provider(settings: StackSettings) -> aws.Provider:
    """An explicit provider for the configured region with the stack's default tags."""
    return aws.Provider(
        "aws",
        region=settings.region,
        default_tags=aws.ProviderDefaultTagsArgs(tags=stack_tags(settings)),
    )
