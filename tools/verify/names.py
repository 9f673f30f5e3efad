"""How pulumi-aws names things in Terraform: resource types, the few properties it renames, and
what it auto-names.

Taken from pulumi-aws's own bridge metadata (`provider/cmd/pulumi-resource-aws/bridge-metadata.json`,
sections `renames.resources` and `renames.renamedProperties`, pulumi-aws v7) and its
`provider/resources.go` (the `Fields` overrides) and `provider/autonaming.go`; the random
provider's from pulumi-random. Only the types webstack creates are listed: a type missing here
is reported, never guessed. Camel-case to snake-case and Pulumi's plural names of repeated blocks
(`settings` for `setting`) are not listed: the translation finds those in the provider's schema.
"""

from __future__ import annotations

from dataclasses import dataclass

# Pulumi type token -> Terraform resource type (bridge metadata, renames.resources).
RESOURCE_TYPES: dict[str, str] = {
    "aws:acm/certificate:Certificate": "aws_acm_certificate",
    "aws:acm/certificateValidation:CertificateValidation": "aws_acm_certificate_validation",
    "aws:cloudwatch/dashboard:Dashboard": "aws_cloudwatch_dashboard",
    "aws:cloudwatch/logGroup:LogGroup": "aws_cloudwatch_log_group",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "aws_cloudwatch_metric_alarm",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "aws_default_security_group",
    "aws:ec2/eip:Eip": "aws_eip",
    "aws:ec2/eipAssociation:EipAssociation": "aws_eip_association",
    "aws:ec2/flowLog:FlowLog": "aws_flow_log",
    "aws:ec2/instance:Instance": "aws_instance",
    "aws:ec2/internetGateway:InternetGateway": "aws_internet_gateway",
    "aws:ec2/natGateway:NatGateway": "aws_nat_gateway",
    "aws:ec2/route:Route": "aws_route",
    "aws:ec2/routeTable:RouteTable": "aws_route_table",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "aws_route_table_association",
    "aws:ec2/securityGroup:SecurityGroup": "aws_security_group",
    "aws:ec2/subnet:Subnet": "aws_subnet",
    "aws:ec2/vpc:Vpc": "aws_vpc",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "aws_vpc_endpoint",
    "aws:elasticbeanstalk/application:Application": "aws_elastic_beanstalk_application",
    "aws:elasticbeanstalk/applicationVersion:ApplicationVersion": (
        "aws_elastic_beanstalk_application_version"
    ),
    "aws:elasticbeanstalk/environment:Environment": "aws_elastic_beanstalk_environment",
    "aws:iam/instanceProfile:InstanceProfile": "aws_iam_instance_profile",
    "aws:iam/policy:Policy": "aws_iam_policy",
    "aws:iam/role:Role": "aws_iam_role",
    "aws:iam/rolePolicy:RolePolicy": "aws_iam_role_policy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "aws_iam_role_policy_attachment",
    "aws:kms/alias:Alias": "aws_kms_alias",
    "aws:kms/key:Key": "aws_kms_key",
    "aws:lb/listenerRule:ListenerRule": "aws_lb_listener_rule",
    "aws:rds/cluster:Cluster": "aws_rds_cluster",
    "aws:rds/clusterInstance:ClusterInstance": "aws_rds_cluster_instance",
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": "aws_rds_cluster_parameter_group",
    "aws:rds/instance:Instance": "aws_db_instance",
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": (
        "aws_db_instance_automated_backups_replication"
    ),
    "aws:rds/optionGroup:OptionGroup": "aws_db_option_group",
    "aws:rds/parameterGroup:ParameterGroup": "aws_db_parameter_group",
    "aws:rds/subnetGroup:SubnetGroup": "aws_db_subnet_group",
    "aws:route53/record:Record": "aws_route53_record",
    "aws:s3/bucket:Bucket": "aws_s3_bucket",
    "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration": "aws_s3_bucket_cors_configuration",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        "aws_s3_bucket_lifecycle_configuration"
    ),
    "aws:s3/bucketLogging:BucketLogging": "aws_s3_bucket_logging",
    "aws:s3/bucketObjectv2:BucketObjectv2": "aws_s3_object",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "aws_s3_bucket_ownership_controls",
    "aws:s3/bucketPolicy:BucketPolicy": "aws_s3_bucket_policy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "aws_s3_bucket_public_access_block",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "aws_s3_bucket_server_side_encryption_configuration"
    ),
    "aws:s3/bucketVersioning:BucketVersioning": "aws_s3_bucket_versioning",
    "aws:secretsmanager/secretRotation:SecretRotation": "aws_secretsmanager_secret_rotation",
    "aws:sns/topic:Topic": "aws_sns_topic",
    "aws:sns/topicPolicy:TopicPolicy": "aws_sns_topic_policy",
    "aws:sns/topicSubscription:TopicSubscription": "aws_sns_topic_subscription",
    "aws:sqs/queue:Queue": "aws_sqs_queue",
    "aws:sqs/queuePolicy:QueuePolicy": "aws_sqs_queue_policy",
    "aws:sqs/redrivePolicy:RedrivePolicy": "aws_sqs_queue_redrive_policy",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "aws_vpc_security_group_egress_rule",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (
        "aws_vpc_security_group_ingress_rule"
    ),
    "aws:wafv2/webAcl:WebAcl": "aws_wafv2_web_acl",
    "aws:wafv2/webAclAssociation:WebAclAssociation": "aws_wafv2_web_acl_association",
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": (
        "aws_wafv2_web_acl_logging_configuration"
    ),
}

# Properties pulumi-aws names other than by camel case or a plural (Pulumi type -> Pulumi name ->
# Terraform name): `Fields` entries with `Name:` in resources.go.
RENAMED: dict[str, dict[str, str]] = {
    "aws:elasticbeanstalk/environment:Environment": {"version": "version_label"},
    "aws:cloudwatch/metricAlarm:MetricAlarm": {"name": "alarm_name"},
    "aws:sns/topicSubscription:TopicSubscription": {"topic": "topic_arn"},
}

# Types the bridge does not map to Terraform: the engine's own, components, other providers.
PULUMI_ONLY_PREFIXES = ("pulumi:", "random:", "webstack:")


@dataclass(frozen=True)
class AutoName:
    """The property pulumi-aws fills with `<resource name><separator><7 hex digits>` when it is
    not set (`tfbridge.AutoName` and its variants)."""

    field: str
    max_length: int = 255
    lower: bool = False
    separator: str = "-"
    prefix: str = ""


# resource_overrides.go's own auto-naming (v7), where it differs from autonaming.go's default
# (every type whose schema has a settable top-level `name`: `AutoName("name", 255, "-")`).
AUTONAMES: dict[str, AutoName | None] = {
    "aws_cloudwatch_metric_alarm": AutoName("alarm_name"),
    "aws_db_instance": AutoName("identifier", separator=""),  # ComputeAutoNameDefault
    "aws_elastic_beanstalk_environment": AutoName("name", 40),
    "aws_iam_role": AutoName("name", 64),
    "aws_kms_alias": AutoName("name", 238, prefix="alias/"),
    "aws_route53_record": None,  # "Do not autoname Route53 records"
    "aws_s3_bucket": AutoName("bucket", 63, lower=True),
    "aws_sns_topic": AutoName("name", 80),
    "aws_sqs_queue": AutoName("name", 80),
}
DEFAULT_AUTONAME = AutoName("name")
