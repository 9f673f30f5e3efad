"""Option settings both tiers' environments take, as (namespace, option, value) rows: instances,
Spot, capacity, deployments, enhanced health and logs, managed updates."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.hosting.settings import DeploymentPolicy, ManagedUpdates, SpotSettings

ROOT_VOLUME_TYPE = "gp3"
ROLLING_BATCH_PERCENT = "30"
SCALE_OUT_CPU_PERCENT = "70"
SCALE_IN_CPU_PERCENT = "20"
# Enhanced health's custom metrics (EB developer guide, "Publishing Amazon CloudWatch custom
# metrics for an environment"): EnvironmentHealth every 60 s, which the health alarm watches.
HEALTH_CONFIG_DOCUMENT = (
    '{"CloudWatchMetrics":{"Environment":{"EnvironmentHealth":60}},"Version":1}'
)

Setting = tuple[str, str, pulumi.Input[str]]

# How configuration changes that replace instances roll out, per deployment policy. An immutable
# deploy sent together with a change that needs a rolling update is refused, and the provider
# sends both in one UpdateEnvironment call: so immutable deploys pair with immutable updates, the
# one pairing AWS documents ("Immutable environment updates", EB developer guide: both options
# Immutable). The others, traffic splitting included (Beanstalk refuses immutable updates with a
# deployment policy that is not Immutable), roll out health-based.
ROLLING_UPDATE_TYPES: dict[DeploymentPolicy, str] = {
    "AllAtOnce": "Health",
    "Rolling": "Health",
    "RollingWithAdditionalBatch": "Health",
    "Immutable": "Immutable",
    "TrafficSplitting": "Health",
}


def csv(values: pulumi.Input[list[str]]) -> pulumi.Output[str]:
    return pulumi.Output.from_input(values).apply(lambda v: ",".join(v))


def to_settings(rows: list[Setting]) -> list[aws.elasticbeanstalk.EnvironmentSettingArgs]:
    """The rows as the provider takes them: sorted, each with resource="" (as the provider reads
    them back, so a second `up` finds no difference)."""
    return [
        aws.elasticbeanstalk.EnvironmentSettingArgs(
            namespace=namespace, name=name, value=value, resource=""
        )
        for namespace, name, value in sorted(rows, key=lambda row: (row[0], row[1]))
    ]


def instance_options(
    instance_profile: pulumi.Input[str],
    security_group_id: pulumi.Input[str],
    instance_types: tuple[str, ...],
) -> list[Setting]:
    """What the instances are: their profile and group, IMDSv2 only, no default group."""
    launch = "aws:autoscaling:launchconfiguration"
    return [
        (launch, "IamInstanceProfile", instance_profile),
        (launch, "SecurityGroups", security_group_id),
        # Beanstalk's own instance group opens port 22 to the world; the instances take only
        # the group above.
        (launch, "DisableDefaultEC2SecurityGroup", "true"),
        (launch, "DisableIMDSv1", "true"),
        (launch, "RootVolumeType", ROOT_VOLUME_TYPE),
        ("aws:ec2:instances", "InstanceTypes", ",".join(instance_types)),
    ]


def spot_options(spot: SpotSettings) -> list[Setting]:
    """Beanstalk's Spot fleet: On-Demand base and share, and a price cap, only where set."""
    if not spot.enabled:
        return []
    instances = "aws:ec2:instances"
    rows: list[Setting] = [
        (instances, "EnableSpot", "true"),
        (instances, "SpotFleetOnDemandBase", str(spot.on_demand_base)),
    ]
    if spot.on_demand_above_percent is not None:
        rows.append(
            (instances, "SpotFleetOnDemandAboveBasePercentage", str(spot.on_demand_above_percent))
        )
    if spot.max_price is not None:
        rows.append((instances, "SpotMaxPrice", spot.max_price))
    return rows


def capacity_options(min_instances: int, max_instances: int) -> list[Setting]:
    """Instance count, scaled on average CPU."""
    trigger = "aws:autoscaling:trigger"
    return [
        ("aws:autoscaling:asg", "MinSize", str(min_instances)),
        ("aws:autoscaling:asg", "MaxSize", str(max_instances)),
        (trigger, "MeasureName", "CPUUtilization"),
        (trigger, "Statistic", "Average"),
        (trigger, "Unit", "Percent"),
        (trigger, "UpperThreshold", SCALE_OUT_CPU_PERCENT),
        (trigger, "LowerThreshold", SCALE_IN_CPU_PERCENT),
    ]


def deployment_options(policy: DeploymentPolicy, single: bool = False) -> list[Setting]:
    """How app versions and configuration changes reach the instances. A single instance has no
    rolling updates (Beanstalk refuses to enable them); an immutable one still pairs with
    immutable configuration updates."""
    rolling = "aws:autoscaling:updatepolicy:rollingupdate"
    command = "aws:elasticbeanstalk:command"
    rows: list[Setting] = [(command, "DeploymentPolicy", policy)]
    if single:
        return (
            [*rows, (rolling, "RollingUpdateType", "Immutable")] if policy == "Immutable" else rows
        )
    rows += [
        (rolling, "RollingUpdateEnabled", "true"),
        (rolling, "RollingUpdateType", ROLLING_UPDATE_TYPES[policy]),
    ]
    if policy in ("Rolling", "RollingWithAdditionalBatch"):
        rows += [
            (command, "BatchSizeType", "Percentage"),
            (command, "BatchSize", ROLLING_BATCH_PERCENT),
        ]
    return rows


def health_and_log_options(
    environment_type: str, service_role_arn: pulumi.Input[str], log_retention_days: int
) -> list[Setting]:
    """Enhanced health, with the environment's health published every minute, and the instance
    and health logs streamed to CloudWatch."""
    env = "aws:elasticbeanstalk:environment"
    logs = "aws:elasticbeanstalk:cloudwatch:logs"
    health_logs = "aws:elasticbeanstalk:cloudwatch:logs:health"
    retention = str(log_retention_days)
    return [
        (env, "EnvironmentType", environment_type),
        (env, "ServiceRole", service_role_arn),
        ("aws:elasticbeanstalk:healthreporting:system", "SystemType", "enhanced"),
        ("aws:elasticbeanstalk:healthreporting:system", "ConfigDocument", HEALTH_CONFIG_DOCUMENT),
        (logs, "StreamLogs", "true"),
        (logs, "DeleteOnTerminate", "false"),
        (logs, "RetentionInDays", retention),
        (health_logs, "HealthStreamingEnabled", "true"),
        (health_logs, "DeleteOnTerminate", "false"),
        (health_logs, "RetentionInDays", retention),
    ]


def managed_update_options(
    updates: ManagedUpdates, service_role_arn: pulumi.Input[str]
) -> list[Setting]:
    managed = "aws:elasticbeanstalk:managedactions"
    rows: list[Setting] = [(managed, "ManagedActionsEnabled", str(updates.enabled).lower())]
    if updates.enabled:
        rows += [
            (managed, "PreferredStartTime", updates.window),
            (managed, "ServiceRoleForManagedUpdates", service_role_arn),
            ("aws:elasticbeanstalk:managedactions:platformupdate", "UpdateLevel", updates.level),
        ]
    return rows
