"""App hosting: the option settings as data, AWS's option table, IAM, HTTPS and the redirect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.fields import Reader, read_section
from components.hosting import (
    AppConnections,
    AppHosting,
    AppHostingArgs,
    AppSettings,
    bundle_digest,
    version_label,
)
from components.settings import ConfigError
from components.storage import AccessLogDestination
from tests.support import component, settings_of, statements
from tools.engine.mock_engine import PROJECT_DIR, Run, run_component

ENV = "aws:elasticbeanstalk/environment:Environment"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f0e0d0c-0b0a-0908-0706-050403020100"

# The options Elastic Beanstalk documents in the namespaces webstack uses ("General options for
# all environments" and "Configuring an Application Load Balancer" in the EB developer guide,
# https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/command-options-general.html). An option
# outside this table would fail `pulumi up` with "Invalid option specification", which no mock
# would show.
AWS_OPTIONS: dict[str, set[str]] = {
    "aws:ec2:vpc": {
        "VPCId",
        "Subnets",
        "ELBSubnets",
        "ELBScheme",
        "DBSubnets",
        "AssociatePublicIpAddress",
    },
    "aws:autoscaling:launchconfiguration": {
        "DisableDefaultEC2SecurityGroup",
        "IamInstanceProfile",
        "SecurityGroups",
        "DisableIMDSv1",
        "RootVolumeType",
        "RootVolumeSize",
        "RootVolumeIOPS",
        "RootVolumeThroughput",
        "MonitoringInterval",
        "EC2KeyName",
        "ImageId",
        "InstanceType",
        "SSHSourceRestriction",
        "BlockDeviceMappings",
    },
    "aws:ec2:instances": {
        "InstanceTypes",
        "EnableSpot",
        "SpotFleetOnDemandBase",
        "SpotFleetOnDemandAboveBasePercentage",
        "SpotMaxPrice",
        "SupportedArchitectures",
    },
    "aws:autoscaling:asg": {
        "MinSize",
        "MaxSize",
        "Availability Zones",
        "Cooldown",
        "Custom Availability Zones",
        "EnableCapacityRebalancing",
    },
    "aws:autoscaling:trigger": {
        "MeasureName",
        "Statistic",
        "Unit",
        "LowerThreshold",
        "UpperThreshold",
        "BreachDuration",
        "Period",
        "EvaluationPeriods",
        "LowerBreachScaleIncrement",
        "UpperBreachScaleIncrement",
    },
    "aws:autoscaling:updatepolicy:rollingupdate": {
        "RollingUpdateEnabled",
        "RollingUpdateType",
        "MinInstancesInService",
        "MaxBatchSize",
        "PauseTime",
        "Timeout",
    },
    "aws:elasticbeanstalk:command": {
        "DeploymentPolicy",
        "BatchSizeType",
        "BatchSize",
        "Timeout",
        "IgnoreHealthCheck",
    },
    "aws:elasticbeanstalk:environment": {
        "EnvironmentType",
        "ServiceRole",
        "LoadBalancerType",
        "LoadBalancerIsShared",
    },
    "aws:elasticbeanstalk:healthreporting:system": {
        "SystemType",
        "ConfigDocument",
        "EnhancedHealthAuthEnabled",
        "HealthCheckSuccessThreshold",
    },
    "aws:elasticbeanstalk:managedactions": {
        "ManagedActionsEnabled",
        "PreferredStartTime",
        "ServiceRoleForManagedUpdates",
    },
    "aws:elasticbeanstalk:managedactions:platformupdate": {"UpdateLevel", "InstanceRefreshEnabled"},
    "aws:elasticbeanstalk:cloudwatch:logs": {"StreamLogs", "DeleteOnTerminate", "RetentionInDays"},
    "aws:elasticbeanstalk:cloudwatch:logs:health": {
        "HealthStreamingEnabled",
        "DeleteOnTerminate",
        "RetentionInDays",
    },
    "aws:elbv2:loadbalancer": {
        "SecurityGroups",
        "ManagedSecurityGroup",
        "AccessLogsS3Enabled",
        "AccessLogsS3Bucket",
        "AccessLogsS3Prefix",
        "IdleTimeout",
    },
    "aws:elbv2:listener:default": {
        "ListenerEnabled",
        "DefaultProcess",
        "Protocol",
        "Rules",
        "SSLCertificateArns",
        "SSLPolicy",
    },
    "aws:elbv2:listener:443": {
        "ListenerEnabled",
        "DefaultProcess",
        "Protocol",
        "Rules",
        "SSLCertificateArns",
        "SSLPolicy",
    },
    "aws:elasticbeanstalk:environment:process:default": {
        "Port",
        "Protocol",
        "HealthCheckPath",
        "MatcherHTTPCode",
        "HealthCheckInterval",
        "HealthCheckTimeout",
        "HealthyThresholdCount",
        "UnhealthyThresholdCount",
        "DeregistrationDelay",
        "StickinessEnabled",
        "StickinessLBCookieDuration",
        "StickinessType",
    },
}
ENV_VARS = "aws:elasticbeanstalk:application:environment"


def setting_rows(r: Run) -> list[tuple[str, str, Any]]:
    env = r.one(ENV)
    for setting in env.plain_inputs["settings"]:
        assert setting["resource"] == ""
    return [(s["namespace"], s["name"], s["value"]) for s in env.plain_inputs["settings"]]


VPC_ID = "vpc-0123456789abcdef0"
PUBLIC = ["subnet-0000000000000000a", "subnet-0000000000000000b"]
PRIVATE = ["subnet-0000000000000000c", "subnet-0000000000000000d"]
SOLUTION_STACK = "64bit Amazon Linux 2023 v4.8.1 running Python 3.12"
CONNECTIONS = AppConnections(
    bucket_name="webstack-test-storage-0123",
    db_engine="postgres",
    db_host="webstack-test-db.c0123456789.us-east-1.rds.amazonaws.com",
    db_port="5432",
    db_name="app",
    db_secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-0123-abcdef",
    aws_region="us-east-1",
)


def app_args(settings: AppSettings, public: bool = False, **wiring: Any) -> AppHostingArgs:
    """The component's arguments in the test VPC, instances in public or private subnets."""
    return AppHostingArgs(
        vpc_id=VPC_ID,
        public_subnet_ids=PUBLIC,
        app_subnet_ids=PUBLIC if public else PRIVATE,
        instances_in_public_subnets=public,
        connections=CONNECTIONS,
        solution_stack=SOLUTION_STACK,
        settings=settings,
        **wiring,
    )


def hosting(public: bool = False, **fields: Any) -> Run:
    """AppHosting alone in an empty stack: instances in public or private subnets."""
    settings = settings_of(AppSettings, "webstack:app", fields)

    def build() -> None:
        app = AppHosting("app", app_args(settings, public))
        pulumi.export("appUrl", app.url)
        pulumi.export("appCname", app.cname)
        pulumi.export("appSecurityGroupId", app.security_group_id)
        pulumi.export("appInstanceRoleArn", app.instance_role_arn)

    return component(("hosting", public, fields), build)


def wired(r: Run) -> dict[str, Any]:
    """The values that come from the component's own resources, looked up in the run."""
    return {
        "profile": r.one("aws:iam/instanceProfile:InstanceProfile").outputs["name"],
        "instance_sg": r.one("aws:ec2/securityGroup:SecurityGroup", "app-instance-sg").id,
        "lb_sg": r.one("aws:ec2/securityGroup:SecurityGroup", "app-lb-sg").id,
        "service_role": r.one("aws:iam/role:Role", "app-service-role").outputs["arn"],
    }


def expected_rows(
    r: Run,
    *,
    app_subnets: list[str],
    public_ip: str,
    instance_types: str,
    min_size: str,
    max_size: str,
    policy: str,
    retention: str,
) -> list[tuple[str, str, Any]]:
    v = wired(r)
    update_type = "Immutable" if policy == "Immutable" else "Health"
    env = [
        ("AWS_REGION", "us-east-1"),
        ("BUCKET_NAME", CONNECTIONS.bucket_name),
        ("DB_ENGINE", "postgres"),
        ("DB_HOST", CONNECTIONS.db_host),
        ("DB_NAME", "app"),
        ("DB_PORT", "5432"),
        ("DB_SECRET_ARN", CONNECTIONS.db_secret_arn),
    ]
    rows = [
        ("aws:autoscaling:asg", "MaxSize", max_size),
        ("aws:autoscaling:asg", "MinSize", min_size),
        ("aws:autoscaling:launchconfiguration", "DisableDefaultEC2SecurityGroup", "true"),
        ("aws:autoscaling:launchconfiguration", "DisableIMDSv1", "true"),
        ("aws:autoscaling:launchconfiguration", "IamInstanceProfile", v["profile"]),
        ("aws:autoscaling:launchconfiguration", "RootVolumeType", "gp3"),
        ("aws:autoscaling:launchconfiguration", "SecurityGroups", v["instance_sg"]),
        ("aws:autoscaling:trigger", "LowerThreshold", "20"),
        ("aws:autoscaling:trigger", "MeasureName", "CPUUtilization"),
        ("aws:autoscaling:trigger", "Statistic", "Average"),
        ("aws:autoscaling:trigger", "Unit", "Percent"),
        ("aws:autoscaling:trigger", "UpperThreshold", "70"),
        ("aws:autoscaling:updatepolicy:rollingupdate", "RollingUpdateEnabled", "true"),
        ("aws:autoscaling:updatepolicy:rollingupdate", "RollingUpdateType", update_type),
        ("aws:ec2:instances", "InstanceTypes", instance_types),
        ("aws:ec2:vpc", "AssociatePublicIpAddress", public_ip),
        ("aws:ec2:vpc", "ELBScheme", "public"),
        ("aws:ec2:vpc", "ELBSubnets", ",".join(PUBLIC)),
        ("aws:ec2:vpc", "Subnets", ",".join(app_subnets)),
        ("aws:ec2:vpc", "VPCId", VPC_ID),
        *((ENV_VARS, key, value) for key, value in env),
        ("aws:elasticbeanstalk:cloudwatch:logs", "DeleteOnTerminate", "false"),
        ("aws:elasticbeanstalk:cloudwatch:logs", "RetentionInDays", retention),
        ("aws:elasticbeanstalk:cloudwatch:logs", "StreamLogs", "true"),
        ("aws:elasticbeanstalk:cloudwatch:logs:health", "DeleteOnTerminate", "false"),
        ("aws:elasticbeanstalk:cloudwatch:logs:health", "HealthStreamingEnabled", "true"),
        ("aws:elasticbeanstalk:cloudwatch:logs:health", "RetentionInDays", retention),
        ("aws:elasticbeanstalk:command", "DeploymentPolicy", policy),
        ("aws:elasticbeanstalk:environment", "EnvironmentType", "LoadBalanced"),
        ("aws:elasticbeanstalk:environment", "LoadBalancerType", "application"),
        ("aws:elasticbeanstalk:environment", "ServiceRole", v["service_role"]),
        ("aws:elasticbeanstalk:environment:process:default", "HealthCheckPath", "/health"),
        ("aws:elasticbeanstalk:environment:process:default", "MatcherHTTPCode", "200"),
        ("aws:elasticbeanstalk:environment:process:default", "Port", "80"),
        ("aws:elasticbeanstalk:environment:process:default", "Protocol", "HTTP"),
        ("aws:elasticbeanstalk:healthreporting:system", "ConfigDocument", HEALTH_DOCUMENT),
        ("aws:elasticbeanstalk:healthreporting:system", "SystemType", "enhanced"),
        ("aws:elasticbeanstalk:managedactions", "ManagedActionsEnabled", "true"),
        ("aws:elasticbeanstalk:managedactions", "PreferredStartTime", "Sun:03:00"),
        ("aws:elasticbeanstalk:managedactions", "ServiceRoleForManagedUpdates", v["service_role"]),
        ("aws:elasticbeanstalk:managedactions:platformupdate", "UpdateLevel", "minor"),
        ("aws:elbv2:listener:default", "ListenerEnabled", "true"),
        ("aws:elbv2:loadbalancer", "ManagedSecurityGroup", v["lb_sg"]),
        ("aws:elbv2:loadbalancer", "SecurityGroups", v["lb_sg"]),
    ]
    return rows


DEV_APP = {
    "instanceTypes": ["t3.micro"],
    "minInstances": 1,
    "maxInstances": 1,
    "deploymentPolicy": "AllAtOnce",
    "logRetentionDays": 3,
}
# The health alarm's metric, published every minute: the document as AWS reads it.
HEALTH_DOCUMENT = '{"CloudWatchMetrics":{"Environment":{"EnvironmentHealth":60}},"Version":1}'


PROD_APP = {
    "instanceTypes": ["t3.small"],
    "minInstances": 2,
    "maxInstances": 6,
    "deploymentPolicy": "Immutable",
    "logRetentionDays": 90,
}


@pytest.mark.parametrize(
    ("fields", "public", "instance_types", "sizes", "policy", "retention"),
    [
        (DEV_APP, True, "t3.micro", ("1", "1"), "AllAtOnce", "3"),
        (PROD_APP, False, "t3.small", ("2", "6"), "Immutable", "90"),
    ],
)
def test_settings_in_full(
    fields: dict[str, Any],
    public: bool,
    instance_types: str,
    sizes: tuple[str, str],
    policy: str,
    retention: str,
) -> None:
    r = hosting(public, **fields)
    assert setting_rows(r) == expected_rows(
        r,
        app_subnets=PUBLIC if public else PRIVATE,
        public_ip=str(public).lower(),
        instance_types=instance_types,
        min_size=sizes[0],
        max_size=sizes[1],
        policy=policy,
        retention=retention,
    )


def test_rolling_deploys_add_their_batch_size() -> None:
    rows = setting_rows(hosting(deploymentPolicy="Rolling", maxInstances=2))
    command = [(n, val) for ns, n, val in rows if ns == "aws:elasticbeanstalk:command"]
    assert command == [
        ("BatchSize", "30"),
        ("BatchSizeType", "Percentage"),
        ("DeploymentPolicy", "Rolling"),
    ]


@pytest.mark.parametrize(
    "fields",
    [
        DEV_APP,
        PROD_APP,
        {"certificateArn": CERT, "deploymentPolicy": "Rolling"},
        {"managedUpdates": {"enabled": False}},
    ],
)
def test_every_option_sent_is_one_aws_documents(fields: dict[str, Any]) -> None:
    rows = setting_rows(hosting(**fields))
    for namespace, name, _ in rows:
        if namespace == ENV_VARS:
            continue
        assert name in AWS_OPTIONS.get(namespace, set()), (namespace, name)
    assert not any(ns.startswith("aws:elb:") for ns, _, _ in rows)  # classic ELB options
    assert rows == sorted(rows, key=lambda row: (row[0], row[1]))
    assert len({(ns, n) for ns, n, _ in rows}) == len(rows)


def test_managed_updates_off_sends_only_the_switch() -> None:
    rows = setting_rows(hosting(managedUpdates={"enabled": False}))
    managed = [(ns, n, val) for ns, n, val in rows if "managedactions" in ns]
    assert managed == [("aws:elasticbeanstalk:managedactions", "ManagedActionsEnabled", "false")]


def test_https_listener_and_redirect_only_with_a_certificate() -> None:
    plain = hosting()
    assert not [ns for ns, _, _ in setting_rows(plain) if ns == "aws:elbv2:listener:443"]
    assert plain.of_type("aws:lb/listenerRule:ListenerRule") == []
    assert any("domain and certificateArn are not set" in w for w in plain.warnings)
    assert plain.outputs["appUrl"].startswith("http://")

    secure = hosting(certificateArn=CERT)
    https = {n: val for ns, n, val in setting_rows(secure) if ns == "aws:elbv2:listener:443"}
    assert https == {
        "ListenerEnabled": "true",
        "Protocol": "HTTPS",
        "SSLCertificateArns": CERT,
        "SSLPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
    }
    assert not secure.warnings
    assert secure.outputs["appUrl"] == "https://" + secure.outputs["appCname"]
    rule = secure.one("aws:lb/listenerRule:ListenerRule")
    load_balancer = secure.one(ENV).outputs["loadBalancers"][0]
    lookup = [args for token, args in secure.invokes if token == "aws:lb/getListener:getListener"]
    assert lookup == [{"loadBalancerArn": load_balancer, "port": 80}]
    assert rule.inputs["listenerArn"].startswith(
        load_balancer.replace(":loadbalancer/", ":listener/")
    )
    assert rule.inputs["priority"] == 1
    assert rule.inputs["actions"] == [
        {
            "type": "redirect",
            "redirect": {"port": "443", "protocol": "HTTPS", "statusCode": "HTTP_301"},
        }
    ]
    assert rule.inputs["conditions"] == [{"pathPattern": {"values": ["/*"]}}]


def ingress_ports(r: Run, group_name: str) -> set[tuple[Any, ...]]:
    group = r.one("aws:ec2/securityGroup:SecurityGroup", group_name)
    return {
        (
            x.inputs["fromPort"],
            x.inputs.get("cidrIpv4")
            or x.inputs.get("cidrIpv6")
            or x.inputs["referencedSecurityGroupId"],
        )
        for x in r.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if x.inputs["securityGroupId"] == group.id
    }


def test_load_balancer_takes_the_web_and_instances_take_only_the_load_balancer() -> None:
    plain = hosting()
    lb = plain.one("aws:ec2/securityGroup:SecurityGroup", "app-lb-sg").id
    assert ingress_ports(plain, "app-lb-sg") == {(80, "0.0.0.0/0"), (80, "::/0")}
    assert ingress_ports(plain, "app-instance-sg") == {(80, lb)}
    secure = hosting(certificateArn=CERT)
    assert ingress_ports(secure, "app-lb-sg") == {
        (80, "0.0.0.0/0"),
        (80, "::/0"),
        (443, "0.0.0.0/0"),
        (443, "::/0"),
    }


@pytest.mark.parametrize("public", [True, False])
def test_public_ips_only_when_instances_sit_in_public_subnets(public: bool) -> None:
    rows = setting_rows(hosting(public))
    assert ("aws:ec2:vpc", "AssociatePublicIpAddress", str(public).lower()) in rows
    assert ("aws:ec2:vpc", "Subnets", ",".join(PUBLIC if public else PRIVATE)) in rows


def test_service_role_trust_and_current_managed_policies() -> None:
    r = hosting()
    (trust,) = statements(r.one("aws:iam/role:Role", "app-service-role"), "assumeRolePolicy")
    assert trust == {
        "Effect": "Allow",
        "Principal": {"Service": "elasticbeanstalk.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": "elasticbeanstalk"}},
    }
    role_name = r.one("aws:iam/role:Role", "app-service-role").outputs["name"]
    attached = {
        a.inputs["policyArn"]
        for a in r.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == role_name
    }
    assert attached == {
        "arn:aws:iam::aws:policy/service-role/AWSElasticBeanstalkEnhancedHealth",
        "arn:aws:iam::aws:policy/AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy",
    }


def test_instance_role_has_the_web_tier_and_only_scoped_inline_grants() -> None:
    r = hosting()
    role = r.one("aws:iam/role:Role", "app-instance-role")
    (trust,) = statements(role, "assumeRolePolicy")
    assert trust["Principal"] == {"Service": "ec2.amazonaws.com"}
    attached = [
        a.inputs["policyArn"]
        for a in r.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == role.outputs["name"]
    ]
    assert sorted(attached) == [
        "arn:aws:iam::aws:policy/AWSElasticBeanstalkWebTier",
        # Session Manager: a shell and port forwarding with no inbound port
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    ]
    profile = r.one("aws:iam/instanceProfile:InstanceProfile")
    assert profile.inputs["role"] == role.outputs["name"]
    for policy in r.of_type("aws:iam/rolePolicy:RolePolicy"):
        for statement in statements(policy):
            actions = (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
            resources = (
                statement["Resource"]
                if isinstance(statement["Resource"], list)
                else [statement["Resource"]]
            )
            assert "*" not in actions and not any(a.endswith(":*") for a in actions), policy.name
            assert "*" not in resources, policy.name


def test_application_keeps_a_bounded_number_of_versions() -> None:
    r = hosting()
    application = r.one("aws:elasticbeanstalk/application:Application")
    assert application.inputs["appversionLifecycle"] == {
        "serviceRole": r.one("aws:iam/role:Role", "app-service-role").outputs["arn"],
        "maxCount": 50,
        "deleteSourceFromS3": True,
    }


def test_the_sample_app_is_zipped_uploaded_and_deployed() -> None:
    r = hosting()
    versions_bucket = r.one("aws:s3/bucket:Bucket", "app-versions-bucket")
    digest = bundle_digest(PROJECT_DIR / "app")
    label = version_label("webstack-test", digest, versions_bucket.id)
    assert label.startswith("webstack-test-") and len(label) == len("webstack-test-") + 12
    bundle = r.one("aws:s3/bucketObjectv2:BucketObjectv2")
    assert bundle.inputs["bucket"] == versions_bucket.id
    assert bundle.inputs["key"] == f"{label}.zip"
    assert str(bundle.inputs["source"].path) == "app"
    version = r.one("aws:elasticbeanstalk/applicationVersion:ApplicationVersion")
    assert (version.inputs["name"], version.inputs["key"]) == (label, f"{label}.zip")
    assert version.inputs["description"] == f"app ({digest})"
    env = r.one(ENV).inputs
    assert env["version"] == label
    assert env["solutionStackName"] == SOLUTION_STACK
    assert env["tier"] == "WebServer"


def test_the_version_label_changes_with_the_app_and_with_the_bucket() -> None:
    # Whatever replaces the version gives it a new name, so it never collides with the old one.
    labels = {version_label("w", a, b) for a in ("app1", "app2") for b in ("bucket1", "bucket2")}
    assert len(labels) == 4


def test_bundle_digest_changes_exactly_when_the_app_does(tmp_path: Any) -> None:
    (tmp_path / "application.py").write_text("a")
    first = bundle_digest(tmp_path)
    assert bundle_digest(tmp_path) == first
    (tmp_path / "application.py").write_text("b")
    assert bundle_digest(tmp_path) != first


def test_the_app_gets_one_variable_per_connection_and_none_holds_a_secret() -> None:
    env = {n: val for ns, n, val in setting_rows(hosting()) if ns == ENV_VARS}
    assert env == CONNECTIONS.variables()
    assert set(env) == {
        "AWS_REGION",
        "BUCKET_NAME",
        "DB_ENGINE",
        "DB_HOST",
        "DB_NAME",
        "DB_PORT",
        "DB_SECRET_ARN",
    }
    for name in env:
        assert not any(word in name for word in ("PASSWORD", "TOKEN", "KEY")), name


def test_user_environment_variables_join_the_ones_webstack_sets() -> None:
    rows = setting_rows(hosting(environmentVariables={"LOG_LEVEL": "debug"}))
    assert (ENV_VARS, "LOG_LEVEL", "debug") in rows


@pytest.mark.parametrize(
    ("app", "message"),
    [
        ({"platform": "Python (3"}, "webstack:app.platform: 'Python (3' is not valid"),
        (
            {"minInstances": 4, "maxInstances": 2},
            "webstack:app.minInstances: 4 is greater than maxInstances (2)",
        ),
    ],
)
def test_bad_platform_or_min_over_max_is_a_config_error(app: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        settings_of(AppSettings, "webstack:app", app)


@pytest.mark.parametrize(
    ("policy", "update_type"),
    [
        ("AllAtOnce", "Health"),
        ("Rolling", "Health"),
        ("RollingWithAdditionalBatch", "Health"),
        ("Immutable", "Immutable"),
        ("TrafficSplitting", "Health"),
    ],
)
def test_deploys_to_fresh_instances_pair_with_immutable_updates(
    policy: str, update_type: str
) -> None:
    # An immutable deploy sent with a change that needs a rolling update is refused by AWS.
    options = {(ns, n): v for ns, n, v in setting_rows(hosting(deploymentPolicy=policy))}
    assert options[("aws:autoscaling:updatepolicy:rollingupdate", "RollingUpdateType")] == (
        update_type
    )
    assert options[("aws:elasticbeanstalk:command", "DeploymentPolicy")] == policy


@pytest.mark.parametrize(
    ("fields", "configured"),
    [
        ({}, "Python 3.12"),
        ({"platform": "Python 3.13"}, "Python 3.13"),
        ({"solutionStackName": SOLUTION_STACK}, SOLUTION_STACK),
    ],
)
def test_the_platform_is_pinned_until_the_branch_in_config_changes(
    fields: dict[str, Any], configured: str
) -> None:
    r = hosting(**fields)
    pin = r.one("pulumi:index:Stash", "app-platform")
    # The pin saves the look-up's answer once; only a change of the configured branch
    # replaces it (and so moves the platform).
    assert pin.inputs == {"input": SOLUTION_STACK}
    assert pin.replacement_trigger == configured
    assert r.one(ENV).inputs["solutionStackName"] == pin.outputs["output"]
    assert pin.urn in r.one(ENV).property_dependencies["solutionStackName"]


def test_beanstalk_attaches_no_instance_group_of_its_own() -> None:
    options = {(ns, n): v for ns, n, v in setting_rows(hosting())}
    # Its default group opens 22 to 0.0.0.0/0; the instances take only the app's group.
    assert options[("aws:autoscaling:launchconfiguration", "DisableDefaultEC2SecurityGroup")] == (
        "true"
    )
    r = hosting()
    lb = r.one("aws:ec2/securityGroup:SecurityGroup", "app-lb-sg").id
    assert ingress_ports(r, "app-instance-sg") == {(80, lb)}


def test_the_version_lifecycle_may_delete_the_bundles_it_expires() -> None:
    r = hosting()
    role = r.one("aws:iam/role:Role", "app-service-role")
    versions = r.one("aws:s3/bucket:Bucket", "app-versions-bucket").outputs["arn"]
    (grant,) = [
        p for p in r.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.id
    ]
    assert statements(grant) == [
        {
            "Sid": "BucketObjects",
            "Effect": "Allow",
            "Action": ["s3:DeleteObject"],
            "Resource": f"{versions}/*",
        }
    ]
    lifecycle = r.one("aws:elasticbeanstalk/application:Application").inputs["appversionLifecycle"]
    assert lifecycle["deleteSourceFromS3"] is True


def test_the_application_and_environment_names_are_freed_before_a_replacement() -> None:
    r = hosting()
    for type_ in ("aws:elasticbeanstalk/application:Application", ENV):
        assert r.one(type_).delete_before_replace is True


def test_the_versions_bucket_logs_to_the_stacks_log_bucket() -> None:
    destination = AccessLogDestination("webstack-test-storage-logs-0123")

    def build() -> None:
        AppHosting("app", app_args(AppSettings(), access_logs=destination))

    r = component(("hosting-logged",), build)
    logging = r.one("aws:s3/bucketLogging:BucketLogging")
    assert logging.inputs["bucket"] == r.one("aws:s3/bucket:Bucket", "app-versions-bucket").id
    assert logging.inputs["targetBucket"] == "webstack-test-storage-logs-0123"
    assert logging.inputs["targetPrefix"] == "s3-access/app-versions/"
    assert not hosting().of_type("aws:s3/bucketLogging:BucketLogging")


DOMAIN = {"name": "app.example.com", "hostedZoneId": "Z0123456789EXAMPLE"}
EB_ZONE = "Z117KPS5GTRQ2G"


def hosted(fields: dict[str, Any], **args: Any) -> Run:
    """AppHosting alone, with extra wiring (`environment_zone_id`, `load_balancer_logs`)."""
    settings = settings_of(AppSettings, "webstack:app", fields)

    def build() -> None:
        app = AppHosting("app", app_args(settings, **args))
        pulumi.export("appUrl", app.url)

    return component(("hosted", fields, repr(args)), build)


def test_a_domain_gets_a_dns_validated_certificate_https_and_an_alias() -> None:
    r = hosted({"domain": DOMAIN}, environment_zone_id=EB_ZONE)
    certificate = r.one("aws:acm/certificate:Certificate")
    assert certificate.inputs == {"domainName": "app.example.com", "validationMethod": "DNS"}
    option = certificate.outputs["domainValidationOptions"][0]
    record = r.one("aws:route53/record:Record", "app-certificate-validation-record")
    assert record.inputs["zoneId"] == "Z0123456789EXAMPLE"
    assert (record.inputs["name"], record.inputs["type"]) == (
        option["resourceRecordName"],
        option["resourceRecordType"],
    )
    assert record.inputs["records"] == [option["resourceRecordValue"]]
    validation = r.one("aws:acm/certificateValidation:CertificateValidation")
    assert validation.inputs["certificateArn"] == certificate.outputs["arn"]
    assert validation.inputs["validationRecordFqdns"] == [record.outputs["fqdn"]]
    # the listener takes the certificate only once ACM has validated it
    https = {n: v for ns, n, v in setting_rows(r) if ns == "aws:elbv2:listener:443"}
    assert https["SSLCertificateArns"] == certificate.outputs["arn"]
    assert validation.urn in r.one(ENV).property_dependencies["settings"]
    alias = r.one("aws:route53/record:Record", "app-domain")
    env = r.one(ENV)
    assert alias.inputs["name"] == "app.example.com" and alias.inputs["type"] == "A"
    assert alias.inputs["aliases"] == [
        {"name": env.outputs["cname"], "zoneId": EB_ZONE, "evaluateTargetHealth": False}
    ]
    assert r.outputs["appUrl"] == "https://app.example.com"
    assert r.one("aws:lb/listenerRule:ListenerRule").inputs["priority"] == 1
    assert not r.warnings


def test_an_apex_domain_works_too() -> None:
    apex = {"name": "example.com", "hostedZoneId": "Z0123456789EXAMPLE"}
    r = hosted({"domain": apex}, environment_zone_id=EB_ZONE)
    assert r.one("aws:route53/record:Record", "app-domain").inputs["name"] == "example.com"
    assert r.outputs["appUrl"] == "https://example.com"


def test_load_balancer_logs_go_to_the_stacks_log_bucket() -> None:
    destination = AccessLogDestination("webstack-test-storage-logs-0123", "elb")
    options = {(ns, n): v for ns, n, v in setting_rows(hosted({}, load_balancer_logs=destination))}
    assert options[("aws:elbv2:loadbalancer", "AccessLogsS3Enabled")] == "true"
    assert options[("aws:elbv2:loadbalancer", "AccessLogsS3Bucket")] == destination.bucket
    assert options[("aws:elbv2:loadbalancer", "AccessLogsS3Prefix")] == "elb"
    assert ("aws:elbv2:loadbalancer", "AccessLogsS3Enabled") not in {
        (ns, n) for ns, n, _ in setting_rows(hosting())
    }


def test_waf_attaches_managed_rule_groups_and_a_rate_limit_to_the_load_balancer() -> None:
    r = hosted({"waf": True, "wafRateLimit": 500})
    acl = r.one("aws:wafv2/webAcl:WebAcl").inputs
    assert (acl["scope"], acl["defaultAction"]) == ("REGIONAL", {"allow": {}})
    groups = [
        rule["statement"]["managedRuleGroupStatement"]
        for rule in acl["rules"]
        if "managedRuleGroupStatement" in rule["statement"]
    ]
    assert [(g["vendorName"], g["name"]) for g in groups] == [
        ("AWS", "AWSManagedRulesAmazonIpReputationList"),
        ("AWS", "AWSManagedRulesCommonRuleSet"),
        ("AWS", "AWSManagedRulesKnownBadInputsRuleSet"),
    ]
    assert groups[1]["ruleActionOverrides"] == [
        {"name": "SizeRestrictions_BODY", "actionToUse": {"count": {}}}
    ]
    (rate,) = [rule for rule in acl["rules"] if "rateBasedStatement" in rule["statement"]]
    assert rate["action"] == {"block": {}}
    assert rate["statement"]["rateBasedStatement"] == {
        "limit": 500,
        "aggregateKeyType": "IP",
        "evaluationWindowSec": 300,
    }
    assert sorted(rule["priority"] for rule in acl["rules"]) == [0, 1, 2, 3]
    association = r.one("aws:wafv2/webAclAssociation:WebAclAssociation")
    assert association.inputs["resourceArn"] == r.one(ENV).outputs["loadBalancers"][0]
    assert association.inputs["webAclArn"] == r.one("aws:wafv2/webAcl:WebAcl").outputs["arn"]
    # Long enough for the provider's retries while WAF does not know the new load balancer yet.
    assert association.custom_timeouts == {"create": "15m"}
    assert not hosting().of_type("aws:wafv2/webAcl:WebAcl")


def test_waf_logs_every_request_to_its_own_log_group_with_credentials_redacted() -> None:
    r = hosted({"waf": True, "logRetentionDays": 30})
    group = r.one("aws:cloudwatch/logGroup:LogGroup", "app-waf-logs").inputs
    # WAF writes only to a log group named aws-waf-logs-*.
    assert group["name"] == "aws-waf-logs-webstack-test"
    assert group["retentionInDays"] == 30
    logging = r.one("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration").inputs
    assert logging["resourceArn"] == r.one("aws:wafv2/webAcl:WebAcl").outputs["arn"]
    assert logging["logDestinationConfigs"] == [
        r.one("aws:cloudwatch/logGroup:LogGroup", "app-waf-logs").outputs["arn"]
    ]
    assert logging["redactedFields"] == [
        {"singleHeader": {"name": "authorization"}},
        {"singleHeader": {"name": "cookie"}},
    ]


@pytest.mark.parametrize(
    ("app", "message"),
    [
        (
            {"domain": DOMAIN, "certificateArn": CERT},
            "webstack:app.certificateArn: set together with domain",
        ),
        (
            {"domain": {"name": "app.example.com"}},
            "webstack:app.domain: needs name and hostedZoneId",
        ),
        ({"domain": {**DOMAIN, "name": "App.Example.com"}}, "webstack:app.domain.name"),
        ({"domain": {**DOMAIN, "hostedZoneId": "zone-1"}}, "webstack:app.domain.hostedZoneId"),
        ({"wafRateLimit": 500}, "webstack:app.wafRateLimit: has no effect with waf false"),
        ({"waf": True, "wafRateLimit": 5}, "webstack:app.wafRateLimit: 5"),
    ],
)
def test_front_settings_are_checked(app: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_of(AppSettings, "webstack:app", app)
    assert any(p.startswith(message) for p in caught.value.problems), caught.value.problems


# A single instance: no load balancer, and none of the options only a load balancer reads.

SINGLE = {"environmentType": "SingleInstance"}


def test_a_single_instance_gets_only_the_options_it_reads() -> None:
    r = hosting(True, **SINGLE)
    rows = setting_rows(r)
    namespaces = {ns for ns, _, _ in rows}
    assert not {n for n in namespaces if n.startswith(("aws:elbv2", "aws:autoscaling:trigger"))}
    assert "aws:elasticbeanstalk:environment:process:default" not in namespaces
    assert "aws:autoscaling:updatepolicy:rollingupdate" not in namespaces
    assert "aws:autoscaling:asg" not in namespaces
    options = {(ns, n): val for ns, n, val in rows}
    assert options[("aws:elasticbeanstalk:environment", "EnvironmentType")] == "SingleInstance"
    assert ("aws:elasticbeanstalk:environment", "LoadBalancerType") not in options
    assert options[("aws:elasticbeanstalk:command", "DeploymentPolicy")] == "AllAtOnce"
    # In a public subnet on its Elastic IP, which AssociatePublicIpAddress has no say over.
    assert options[("aws:ec2:vpc", "Subnets")] == ",".join(PUBLIC)
    assert {("aws:ec2:vpc", "ELBSubnets"), ("aws:ec2:vpc", "AssociatePublicIpAddress")}.isdisjoint(
        options
    )
    for namespace, name, _ in rows:
        assert namespace == ENV_VARS or name in AWS_OPTIONS.get(namespace, set()), (namespace, name)


def test_a_single_instance_takes_the_web_on_http_only_with_a_warning() -> None:
    r = hosting(True, **SINGLE)
    assert [g.name for g in r.of_type("aws:ec2/securityGroup:SecurityGroup")] == ["app-instance-sg"]
    assert ingress_ports(r, "app-instance-sg") == {(80, "0.0.0.0/0"), (80, "::/0")}
    assert not r.of_type("aws:lb/listenerRule:ListenerRule")
    assert any(
        "SingleInstance without instanceHttps: the app is served over plain HTTP only" in w
        for w in r.warnings
    )
    assert r.outputs["appUrl"] == "http://" + r.outputs["appCname"]


def test_instance_https_opens_443_to_the_bundles_own_tls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = tmp_path / "site/.platform/nginx/conf.d"
    conf.mkdir(parents=True)
    (conf / "https.conf").write_text(
        "server {\n    listen 443 ssl;\n    ssl_certificate /etc/pki/tls/certs/server.crt;\n}\n"
    )
    reader = Reader(project_dir=tmp_path)
    fields = {**SINGLE, "instanceHttps": True, "sourceBundle": "site"}
    settings = read_section(AppSettings, fields, "webstack:app", reader)
    assert reader.problems == [] and settings.https and settings.single

    def build() -> None:
        app = AppHosting("app", app_args(settings, public=True))
        pulumi.export("appUrl", app.url)
        pulumi.export("appCname", app.cname)

    monkeypatch.chdir(tmp_path)
    r = run_component(build)
    assert (443, "0.0.0.0/0") in ingress_ports(r, "app-instance-sg")
    assert not r.warnings
    assert r.outputs["appUrl"] == "https://" + r.outputs["appCname"]


def test_an_immutable_single_instance_pairs_with_immutable_updates() -> None:
    rows = setting_rows(hosting(True, **SINGLE, deploymentPolicy="Immutable"))
    rolling = [(n, v) for ns, n, v in rows if ns == "aws:autoscaling:updatepolicy:rollingupdate"]
    assert rolling == [("RollingUpdateType", "Immutable")]


@pytest.mark.parametrize(
    ("app", "message"),
    [
        ({"domain": DOMAIN}, "webstack:app.domain: needs a load balancer"),
        ({"certificateArn": CERT}, "webstack:app.certificateArn: needs a load balancer"),
        ({"waf": True}, "webstack:app.waf: needs a load balancer"),
        ({"accessLogs": True}, "webstack:app.accessLogs: needs a load balancer"),
        ({"healthCheckPath": "/up"}, "webstack:app.healthCheckPath: needs a load balancer"),
        ({"maxInstances": 2}, "webstack:app.maxInstances: needs a load balancer"),
        (
            {"deploymentPolicy": "Rolling"},
            "webstack:app.deploymentPolicy: 'Rolling' is not valid; expected AllAtOnce or "
            "Immutable on a SingleInstance environment",
        ),
        (
            {"instanceHttps": True},
            "webstack:app.instanceHttps: needs an nginx server listening on 443 with ssl in "
            "app/.platform/nginx/conf.d/*.conf",
        ),
    ],
)
def test_what_needs_a_load_balancer_is_refused_on_a_single_instance(
    app: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_of(AppSettings, "webstack:app", {**SINGLE, **app})
    assert [p for p in caught.value.problems if p.startswith(message)], caught.value.problems


def test_instance_https_is_only_for_a_single_instance() -> None:
    with pytest.raises(ConfigError) as caught:
        settings_of(AppSettings, "webstack:app", {"instanceHttps": True})
    assert list(caught.value.problems) == [
        "webstack:app.instanceHttps: only with environmentType SingleInstance; a load balancer "
        "ends TLS with domain or certificateArn"
    ]


# Spot: Beanstalk's Spot fleet options, only where set; several types of one architecture.


def test_spot_sends_beanstalks_fleet_options() -> None:
    spot = {"enabled": True, "onDemandBase": 1, "onDemandAbovePercent": 25, "maxPrice": 0.05}
    rows = setting_rows(hosting(instanceTypes=["t4g.small", "m7g.medium"], spot=spot))
    instances = {n: v for ns, n, v in rows if ns == "aws:ec2:instances"}
    assert instances == {
        "InstanceTypes": "t4g.small,m7g.medium",
        "EnableSpot": "true",
        "SpotFleetOnDemandBase": "1",
        "SpotFleetOnDemandAboveBasePercentage": "25",
        "SpotMaxPrice": "0.05",
    }
    for name in instances:
        assert name in AWS_OPTIONS["aws:ec2:instances"]
    plain = {n for ns, n, _ in setting_rows(hosting()) if ns == "aws:ec2:instances"}
    assert plain == {"InstanceTypes"}
    only_on = setting_rows(hosting(spot={"enabled": True}))
    assert {n for ns, n, _ in only_on if ns == "aws:ec2:instances"} == {
        "InstanceTypes",
        "EnableSpot",
        "SpotFleetOnDemandBase",
    }


@pytest.mark.parametrize(
    ("app", "message"),
    [
        (
            {"instanceTypes": ["t4g.small", "m7g.medium"]},
            "webstack:app.instanceTypes: 2 types, but without Spot Beanstalk launches only the "
            "first (t4g.small); list one type, or enable spot",
        ),
        (
            {"instanceTypes": ["t4g.small", "t3.small"], "spot": {"enabled": True}},
            "webstack:app.instanceTypes: mixes architectures: t4g.small (arm64), t3.small (x86_64)",
        ),
        (
            {"spot": {"enabled": True, "onDemandBase": 3}, "maxInstances": 2},
            "webstack:app.spot.onDemandBase: onDemandBase 3 is more than maxInstances (2)",
        ),
        (
            {"spot": {"maxPrice": "0.05"}},
            "webstack:app.spot.maxPrice: has no effect with enabled false",
        ),
        (
            {"spot": {"enabled": True, "maxPrice": 25}},
            "webstack:app.spot.maxPrice: 25 is not valid",
        ),
        (
            {"spot": {"enabled": True, "maxPrice": "cheap"}},
            "webstack:app.spot.maxPrice: 'cheap' is not valid; expected a number from 0.001 to 20",
        ),
        (
            {"spot": {"enabled": True, "onDemandAbovePercent": 101}},
            "webstack:app.spot.onDemandAbovePercent: 101",
        ),
    ],
)
def test_spot_settings_are_checked(app: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_of(AppSettings, "webstack:app", app)
    assert [p for p in caught.value.problems if p.startswith(message)], caught.value.problems


@pytest.mark.parametrize(
    ("spot", "message"),
    [
        ({"onDemandBase": 1}, "webstack:app.spot.onDemandBase: 1 gives the only instance"),
        (
            {"onDemandAbovePercent": 50},
            "webstack:app.spot.onDemandAbovePercent: 50 gives the only instance",
        ),
    ],
)
def test_spot_on_a_single_instance_means_no_on_demand_share(
    spot: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_of(AppSettings, "webstack:app", {**SINGLE, "spot": {"enabled": True, **spot}})
    assert [p for p in caught.value.problems if p.startswith(message)], caught.value.problems
    rows = setting_rows(hosting(True, **SINGLE, spot={"enabled": True}))
    assert ("aws:ec2:instances", "SpotFleetOnDemandBase", "0") in rows


def test_a_new_environment_type_replaces_the_environment() -> None:
    env = hosting(True, **SINGLE).one(ENV)
    # Beanstalk sets a load balancer's type only at creation: a type change is a new environment,
    # deleted first (its name is fixed).
    assert (env.replacement_trigger, env.delete_before_replace) == ("SingleInstance", True)
    assert hosting().one(ENV).replacement_trigger == "LoadBalanced"


def test_graviton_is_the_default() -> None:
    rows = setting_rows(hosting())
    assert ("aws:ec2:instances", "InstanceTypes", "t4g.micro") in rows
