"""Which input changes replace a resource instead of updating it, per resource type.

Taken from the providers' schemas (an argument marked `ForceNew`, or a `RequiresReplace` plan
modifier): the Terraform AWS provider under `internal/service/`, which pulumi-aws bridges, and
the Terraform random provider. Each entry names its source file; `tests/test_diff.py` checks
every name is a real input of the pulumi-aws type. A type listed with no arguments updates in
place whatever changes; a type not listed is not assessed.
"""

from __future__ import annotations

from dataclasses import dataclass

AWS = "https://github.com/hashicorp/terraform-provider-aws/blob/main/internal/service/"
RANDOM = "https://github.com/hashicorp/terraform-provider-random/blob/main/internal/provider/"
PULUMI = "https://github.com/pulumi/pulumi/blob/master/pkg/resource/deploy/builtins.go"


@dataclass(frozen=True)
class ForceNew:
    """The arguments of one resource type whose change replaces it, and where that is said."""

    source: str
    arguments: frozenset[str]


def _aws(path: str, *arguments: str) -> ForceNew:
    return ForceNew(AWS + path, frozenset(arguments))


_BUCKET_CHILD = ("bucket", "expectedBucketOwner")

FORCE_NEW: dict[str, ForceNew] = {
    # Stateful: the data and what holds it.
    "aws:rds/instance:Instance": _aws(
        "rds/instance.go",
        "engine",
        "dbName",
        "username",
        "storageEncrypted",
        "kmsKeyId",
        "availabilityZone",
        "snapshotIdentifier",
        "restoreToPointInTime",
        "characterSetName",
        "ncharCharacterSetName",
        "timezone",
        "customIamInstanceProfile",
        "backupTarget",
    ),
    "aws:s3/bucket:Bucket": _aws("s3/bucket.go", "bucket", "bucketPrefix", "objectLockEnabled"),
    "aws:elasticbeanstalk/environment:Environment": _aws(
        "elasticbeanstalk/environment.go", "name", "cnamePrefix", "tier"
    ),
    "aws:elasticbeanstalk/application:Application": _aws("elasticbeanstalk/application.go", "name"),
    "aws:elasticbeanstalk/applicationVersion:ApplicationVersion": _aws(
        "elasticbeanstalk/application_version.go", "application", "bucket", "key", "name"
    ),
    "aws:ec2/vpc:Vpc": _aws(
        "ec2/vpc_.go", "cidrBlock", "instanceTenancy", "ipv4IpamPoolId", "ipv4NetmaskLength"
    ),
    "aws:ec2/subnet:Subnet": _aws(
        "ec2/vpc_subnet.go",
        "cidrBlock",
        "availabilityZone",
        "availabilityZoneId",
        "vpcId",
        "ipv6Native",
        "outpostArn",
    ),
    # What the stateful ones depend on.
    "aws:rds/parameterGroup:ParameterGroup": _aws(
        "rds/parameter_group.go", "family", "name", "namePrefix", "description"
    ),
    "aws:rds/optionGroup:OptionGroup": _aws(
        "rds/option_group.go",
        "engineName",
        "majorEngineVersion",
        "name",
        "namePrefix",
        "optionGroupDescription",
    ),
    "aws:rds/subnetGroup:SubnetGroup": _aws("rds/subnet_group.go", "name", "namePrefix"),
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": _aws(
        "rds/instance_automated_backups_replication.go",
        "kmsKeyId",
        "preSignedUrl",
        "retentionPeriod",
        "sourceDbInstanceArn",
    ),
    "aws:ec2/securityGroup:SecurityGroup": _aws(
        "ec2/vpc_security_group.go", "name", "namePrefix", "description", "vpcId"
    ),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": _aws(
        "ec2/vpc_default_security_group.go", "vpcId"
    ),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _aws(
        "ec2/vpc_security_group_ingress_rule.go", "securityGroupId"
    ),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _aws(
        "ec2/vpc_security_group_egress_rule.go", "securityGroupId"
    ),
    "aws:ec2/natGateway:NatGateway": _aws(
        "ec2/vpc_nat_gateway.go",
        "allocationId",
        "connectivityType",
        "privateIp",
        "subnetId",
        "secondaryPrivateIpAddressCount",
    ),
    "aws:ec2/eip:Eip": _aws(
        "ec2/ec2_eip.go", "address", "domain", "networkBorderGroup", "publicIpv4Pool"
    ),
    "aws:ec2/internetGateway:InternetGateway": _aws("ec2/vpc_internet_gateway.go"),
    # The NAT instance. `userData` replaces it only with `userDataReplaceOnChange` (a
    # CustomizeDiff ForceNewIf), which webstack always sets; `rootBlockDevice` replaces it only
    # for its encryption, which webstack never changes, so it is not listed.
    "aws:ec2/instance:Instance": _aws(
        "ec2/ec2_instance.go",
        "ami",
        "associatePublicIpAddress",
        "availabilityZone",
        "subnetId",
        "privateIp",
        "keyName",
        "ebsOptimized",
        "hibernation",
        "tenancy",
        "placementGroup",
        "hostId",
        "launchTemplate",
        "securityGroups",
        "ipv6AddressCount",
        "ipv6Addresses",
        "cpuOptions",
        "enclaveOptions",
        "ephemeralBlockDevices",
        "ebsBlockDevices",
        "networkInterfaces",
        "privateDnsNameOptions",
        "userData",
    ),
    "aws:ec2/routeTable:RouteTable": _aws("ec2/vpc_route_table.go", "vpcId"),
    "aws:ec2/route:Route": _aws(
        "ec2/vpc_route.go",
        "routeTableId",
        "destinationCidrBlock",
        "destinationIpv6CidrBlock",
        "destinationPrefixListId",
    ),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _aws(
        "ec2/vpc_route_table_association.go", "gatewayId", "subnetId"
    ),
    "aws:ec2/vpcEndpoint:VpcEndpoint": _aws(
        "ec2/vpc_endpoint.go", "serviceName", "vpcEndpointType", "vpcId"
    ),
    "aws:ec2/flowLog:FlowLog": _aws(
        "ec2/vpc_flow_log.go",
        "deliverCrossAccountRole",
        "destinationOptions",
        "eniId",
        "iamRoleArn",
        "logDestination",
        "logDestinationType",
        "logFormat",
        "maxAggregationInterval",
        "subnetId",
        "trafficType",
        "transitGatewayAttachmentId",
        "transitGatewayId",
        "vpcId",
    ),
    "aws:cloudwatch/logGroup:LogGroup": _aws(
        "logs/group.go", "name", "namePrefix", "logGroupClass"
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _aws("cloudwatch/metric_alarm.go", "name"),
    "aws:cloudwatch/dashboard:Dashboard": _aws("cloudwatch/dashboard.go", "dashboardName"),
    "aws:iam/role:Role": _aws("iam/role.go", "name", "namePrefix", "path"),
    "aws:iam/rolePolicy:RolePolicy": _aws("iam/role_policy.go", "name", "namePrefix", "role"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _aws(
        "iam/role_policy_attachment.go", "policyArn", "role"
    ),
    "aws:iam/instanceProfile:InstanceProfile": _aws(
        "iam/instance_profile.go", "name", "namePrefix", "path"
    ),
    "aws:kms/key:Key": _aws(
        "kms/key.go",
        "customKeyStoreId",
        "customerMasterKeySpec",
        "keyUsage",
        "multiRegion",
        "xksKeyId",
    ),
    "aws:secretsmanager/secretRotation:SecretRotation": _aws(
        "secretsmanager/secret_rotation.go", "secretId"
    ),
    "aws:acm/certificate:Certificate": _aws(
        "acm/certificate.go",
        "domainName",
        "validationMethod",
        "subjectAlternativeNames",
        "keyAlgorithm",
        "certificateAuthorityArn",
        "validationOptions",
    ),
    "aws:acm/certificateValidation:CertificateValidation": _aws(
        "acm/certificate_validation.go", "certificateArn", "validationRecordFqdns"
    ),
    "aws:route53/record:Record": _aws("route53/record.go", "name", "zoneId"),
    "aws:sns/topic:Topic": _aws("sns/topic.go", "name", "namePrefix", "fifoTopic"),
    "aws:sns/topicPolicy:TopicPolicy": _aws("sns/topic_policy.go", "arn"),
    "aws:sns/topicSubscription:TopicSubscription": _aws(
        "sns/topic_subscription.go", "endpoint", "protocol", "topic"
    ),
    "aws:sqs/queue:Queue": _aws("sqs/queue.go", "name", "namePrefix", "fifoQueue"),
    "aws:sqs/queuePolicy:QueuePolicy": _aws("sqs/queue_policy.go", "queueUrl"),
    "aws:wafv2/webAcl:WebAcl": _aws("wafv2/web_acl.go", "name", "scope"),
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": _aws(
        "wafv2/web_acl_logging_configuration.go", "resourceArn", "logDestinationConfigs"
    ),
    "aws:wafv2/webAclAssociation:WebAclAssociation": _aws(
        "wafv2/web_acl_association.go", "resourceArn", "webAclArn"
    ),
    "aws:lb/listenerRule:ListenerRule": _aws("elbv2/listener_rule.go", "listenerArn"),
    "aws:s3/bucketObjectv2:BucketObjectv2": _aws("s3/object.go", "bucket", "key"),
    "aws:s3/bucketPolicy:BucketPolicy": _aws("s3/bucket_policy.go", "bucket"),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _aws(
        "s3/bucket_public_access_block.go", "bucket"
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _aws(
        "s3/bucket_ownership_controls.go", "bucket"
    ),
    "aws:s3/bucketVersioning:BucketVersioning": _aws("s3/bucket_versioning.go", *_BUCKET_CHILD),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        _aws("s3/bucket_server_side_encryption_configuration.go", *_BUCKET_CHILD)
    ),
    "aws:s3/bucketLogging:BucketLogging": _aws("s3/bucket_logging.go", *_BUCKET_CHILD),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _aws(
        "s3/bucket_lifecycle_configuration.go", *_BUCKET_CHILD
    ),
    "random:index/randomId:RandomId": ForceNew(
        RANDOM + "resource_id.go", frozenset({"keepers", "byteLength", "prefix"})
    ),
    # The engine's builtin: a changed input updates a stash, never replaces it.
    "pulumi:index:Stash": ForceNew(PULUMI, frozenset()),
}

# A security group rule's peer: changing its kind (a group for an address range) replaces the
# rule (`ModifyPlan` in vpc_security_group_ingress_rule.go).
RULE_PEERS = ("referencedSecurityGroupId", "cidrIpv4", "cidrIpv6", "prefixListId")
SG_RULE_TYPES = frozenset(
    {
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    }
)
# Resources that hold data: replacing or deleting one loses it.
DATA_TYPES = frozenset({"aws:rds/instance:Instance", "aws:s3/bucket:Bucket"})

# Types whose provider schema has `tags_all` (the provider's default tags merged with the
# resource's own): a change of the provider's default tags (`webstack:tags`) updates each in
# place. `tests/test_verify.py` checks the list against the provider's schema.
TAGGABLE = frozenset(
    {
        "aws:acm/certificate:Certificate",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
        "aws:ec2/eip:Eip",
        "aws:ec2/flowLog:FlowLog",
        "aws:ec2/instance:Instance",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/vpc:Vpc",
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        "aws:elasticbeanstalk/application:Application",
        "aws:elasticbeanstalk/applicationVersion:ApplicationVersion",
        "aws:elasticbeanstalk/environment:Environment",
        "aws:iam/instanceProfile:InstanceProfile",
        "aws:iam/policy:Policy",
        "aws:iam/role:Role",
        "aws:kms/key:Key",
        "aws:lb/listenerRule:ListenerRule",
        "aws:rds/cluster:Cluster",
        "aws:rds/clusterInstance:ClusterInstance",
        "aws:rds/clusterParameterGroup:ClusterParameterGroup",
        "aws:rds/instance:Instance",
        "aws:rds/optionGroup:OptionGroup",
        "aws:rds/parameterGroup:ParameterGroup",
        "aws:rds/subnetGroup:SubnetGroup",
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketObjectv2:BucketObjectv2",
        "aws:sns/topic:Topic",
        "aws:sqs/queue:Queue",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:wafv2/webAcl:WebAcl",
    }
)

# Beanstalk option namespaces whose change replaces an environment's instances (the environment
# itself updates in place): its launch template or VPC placement (EB developer guide,
# "Configuration changes": changes to the launch configuration or VPC settings replace the
# instances, in batches as the rolling-update policy says).
INSTANCE_REPLACING_NAMESPACES = frozenset(
    {"aws:autoscaling:launchconfiguration", "aws:ec2:instances", "aws:ec2:vpc"}
)
