"""What stands in front of the environment: its domain's certificate and DNS, and a web ACL.

Helpers of `AppHosting`, kept apart because they speak ACM, Route 53 and WAF rather than
Beanstalk; each creates its resources as children of the component it is given.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.base import Component

VALIDATION_TTL_SECONDS = 60
# AWS managed rule groups for a web app ("AWS Managed Rules rule groups list", WAF developer
# guide): the core rule set (700 WCU), known bad inputs (200) and Amazon's IP reputation list (25).
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
)
# The core rule set blocks request bodies over 8 KB; an app that takes form posts or uploads
# would fail, so that one rule only counts.
COUNTED_RULES = {"AWSManagedRulesCommonRuleSet": ("SizeRestrictions_BODY",)}
RATE_LIMIT_WINDOW_SECONDS = 300
# WAF logs only to a log group whose name starts with this ("Sending web ACL traffic logs to an
# Amazon CloudWatch Logs log group", WAF developer guide).
WAF_LOG_GROUP_PREFIX = "aws-waf-logs-"
# Request headers that carry credentials: never written to the logs.
REDACTED_HEADERS = ("authorization", "cookie")
# The provider retries an association while the new load balancer is not yet known to WAF
# (WAFUnavailableEntityException, terraform-provider-aws #17527, #29080) for as long as the
# create timeout allows; its default, 5 minutes, is sometimes too short for a new environment.
ASSOCIATION_CREATE_TIMEOUT = "15m"


def validated_certificate(owner: Component, domain: str, zone_id: str) -> pulumi.Output[str]:
    """An ACM certificate for `domain`, validated by a DNS record in the zone; its ARN resolves
    once ACM has issued it, so the listener never takes a pending certificate."""
    certificate = aws.acm.Certificate(
        f"{owner.prefix}-certificate",
        domain_name=domain,
        validation_method="DNS",
        opts=owner.child(),
    )
    option = certificate.domain_validation_options[0]
    record = aws.route53.Record(
        f"{owner.prefix}-certificate-validation-record",
        zone_id=zone_id,
        name=option.resource_record_name,
        type=option.resource_record_type,
        records=[option.resource_record_value],
        ttl=VALIDATION_TTL_SECONDS,
        # ACM asks for the same record again when a certificate for the name is re-issued.
        allow_overwrite=True,
        opts=owner.child(),
    )
    validation = aws.acm.CertificateValidation(
        f"{owner.prefix}-certificate-validation",
        certificate_arn=certificate.arn,
        validation_record_fqdns=[record.fqdn],
        opts=owner.child(),
    )
    return validation.certificate_arn


def alias_record(
    owner: Component,
    domain: str,
    zone_id: str,
    environment: aws.elasticbeanstalk.Environment,
    environment_zone_id: str,
) -> aws.route53.Record:
    """An A alias from the domain to the environment's CNAME, which works at a zone's apex too
    (Route 53 developer guide, "Routing traffic to an AWS Elastic Beanstalk environment")."""
    return aws.route53.Record(
        f"{owner.prefix}-domain",
        zone_id=zone_id,
        name=domain,
        type="A",
        aliases=[
            {
                "name": environment.cname,
                "zone_id": environment_zone_id,
                "evaluate_target_health": False,
            }
        ],
        opts=owner.child(),
    )


def _visibility(metric: str) -> aws.wafv2.WebAclVisibilityConfigArgsDict:
    return {
        "cloudwatch_metrics_enabled": True,
        "metric_name": metric,
        "sampled_requests_enabled": True,
    }


def _managed_rule(name: str, priority: int) -> aws.wafv2.WebAclRuleArgsDict:
    return {
        "name": name,
        "priority": priority,
        "override_action": {"none": {}},
        "statement": {
            "managed_rule_group_statement": {
                "vendor_name": "AWS",
                "name": name,
                "rule_action_overrides": [
                    {"name": rule, "action_to_use": {"count": {}}}
                    for rule in COUNTED_RULES.get(name, ())
                ],
            }
        },
        "visibility_config": _visibility(name),
    }


def web_acl(
    owner: Component,
    load_balancer_arn: pulumi.Input[str],
    rate_limit: int,
    physical: str,
    log_retention_days: int,
) -> None:
    """AWS's managed rule groups and a per-IP rate limit, on the environment's load balancer,
    logging every request to CloudWatch Logs (credentials redacted)."""
    rules = [_managed_rule(name, index) for index, name in enumerate(MANAGED_RULE_GROUPS)]
    rules.append(
        {
            "name": "rate-limit-per-ip",
            "priority": len(rules),
            "action": {"block": {}},
            "statement": {
                "rate_based_statement": {
                    "limit": rate_limit,
                    "aggregate_key_type": "IP",
                    "evaluation_window_sec": RATE_LIMIT_WINDOW_SECONDS,
                }
            },
            "visibility_config": _visibility("rate-limit-per-ip"),
        }
    )
    acl = aws.wafv2.WebAcl(
        f"{owner.prefix}-waf",
        scope="REGIONAL",
        default_action={"allow": {}},
        rules=rules,
        visibility_config=_visibility(f"{owner.prefix}-waf"),
        opts=owner.child(),
    )
    logs = aws.cloudwatch.LogGroup(
        f"{owner.prefix}-waf-logs",
        name=f"{WAF_LOG_GROUP_PREFIX}{physical}",
        retention_in_days=log_retention_days,
        # A fixed name: a replacement must delete the old group first.
        opts=owner.child(delete_before_replace=True),
    )
    aws.wafv2.WebAclLoggingConfiguration(
        f"{owner.prefix}-waf-logging",
        resource_arn=acl.arn,
        log_destination_configs=[logs.arn],
        redacted_fields=[{"single_header": {"name": header}} for header in REDACTED_HEADERS],
        opts=owner.child(),
    )
    aws.wafv2.WebAclAssociation(
        f"{owner.prefix}-waf-association",
        resource_arn=load_balancer_arn,
        web_acl_arn=acl.arn,
        opts=pulumi.ResourceOptions.merge(
            owner.child(),
            pulumi.ResourceOptions(
                custom_timeouts=pulumi.CustomTimeouts(create=ASSOCIATION_CREATE_TIMEOUT)
            ),
        ),
    )
