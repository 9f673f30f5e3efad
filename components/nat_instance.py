"""`webstack:network:NatInstance`: one EC2 instance as the private subnets' way out, for a
fraction of a NAT gateway's price (what it trades is in the README, "NAT: gateways or an
instance")."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.base import Component
from components.instances import (
    SSM_MANAGED_INSTANCE_POLICY,
    architecture,
    instance_role,
    outbound_anywhere,
)

USER_DATA = (Path(__file__).parent / "nat_instance.sh").read_text()
# Amazon Linux 2023's current AMI per architecture, as AWS publishes it in SSM (AL2023 user guide,
# "Launching AL2023 using the SSM parameter and AWS CLI").
AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"
# EC2's recover action (CloudWatch user guide, "Create alarms to stop, terminate, reboot, or
# recover an EC2 instance"): two failed one-minute system checks, as AWS recommends for it.
RECOVER_ACTION = "arn:{partition}:automate:{region}:ec2:recover"
RECOVER_METRIC = "StatusCheckFailed_System"
RECOVER_PERIOD_SECONDS = 60
RECOVER_EVALUATION_PERIODS = 2


@dataclass(frozen=True)
class NatInstanceArgs:
    """Where the instance goes: a public subnet of the VPC, admitting only the VPC's addresses."""

    instance_type: str
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    subnet_id: pulumi.Input[str]
    # An Elastic IP is associated only once the VPC has its internet gateway.
    internet_gateway: pulumi.Resource


class NatInstance(Component):
    """An Amazon Linux 2023 instance that forwards and masquerades the VPC's traffic: source/
    destination check off, IMDSv2 only, an Elastic IP, reached through SSM (no SSH, no key), and
    recovered onto new hardware by a CloudWatch alarm when its host fails."""

    network_interface_id: pulumi.Output[str]
    public_ip: pulumi.Output[str]

    def __init__(
        self, name: str, args: NatInstanceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webstack:network:NatInstance", name, opts)
        instance = self._instance(args)
        # Allocated for the instance: it is its public address, and keeps it across a recovery.
        eip = aws.ec2.Eip(
            f"{self.prefix}-eip",
            domain="vpc",
            instance=instance.id,
            tags={"Name": self.prefix},
            opts=self.child(depends_on=[args.internet_gateway]),
        )
        self._recovery_alarm(instance)
        self.network_interface_id = instance.primary_network_interface_id
        self.public_ip = eip.public_ip
        self.register_outputs(
            {"network_interface_id": self.network_interface_id, "public_ip": self.public_ip}
        )

    def _security_group(self, args: NatInstanceArgs) -> aws.ec2.SecurityGroup:
        name = self.prefix
        group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description=f"{name}: any traffic from the VPC ({args.vpc_cidr}) only, out anywhere",
            opts=self.child(),
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-vpc",
            security_group_id=group.id,
            ip_protocol="-1",
            cidr_ipv4=args.vpc_cidr,
            description="what the private subnets send out",
            opts=self.child(),
        )
        outbound_anywhere(
            self, f"{name}-to-anywhere", group, "forwarded traffic, and the instance's own updates"
        )
        return group

    def _instance(self, args: NatInstanceArgs) -> aws.ec2.Instance:
        name = self.prefix
        group = self._security_group(args)
        # What SSM needs and nothing else: Session Manager instead of SSH.
        _, profile = instance_role(self, (SSM_MANAGED_INSTANCE_POLICY,))
        ami = aws.ssm.get_parameter_output(
            name=AMI_PARAMETER.format(arch=architecture(args.instance_type)),
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        return aws.ec2.Instance(
            f"{name}-instance",
            # The AMI of the first `up`: a newer AL2023 release must not replace a running NAT
            # (`ami` forces a new instance); patch it through SSM, or replace it on purpose.
            ami=ami.insecure_value,
            instance_type=args.instance_type,
            subnet_id=args.subnet_id,
            vpc_security_group_ids=[group.id],
            iam_instance_profile=profile.name,
            source_dest_check=False,
            associate_public_ip_address=False,  # the Elastic IP is its address
            metadata_options=aws.ec2.InstanceMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1
            ),
            # The AMI's own size; encrypted (with the account's default EBS key) and gp3.
            root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(
                encrypted=True, volume_type="gp3"
            ),
            # Basic metrics are free; status checks (the recover alarm's) come every minute anyway.
            monitoring=False,
            user_data=USER_DATA,
            # User data runs at first boot only: a changed script needs a new instance.
            user_data_replace_on_change=True,
            tags={"Name": name},
            opts=pulumi.ResourceOptions.merge(
                self.child(), pulumi.ResourceOptions(ignore_changes=["ami"])
            ),
        )

    def _recovery_alarm(self, instance: aws.ec2.Instance) -> None:
        parent = pulumi.InvokeOutputOptions(parent=self)
        partition = aws.get_partition_output(opts=parent).partition
        region = aws.get_region_output(opts=parent).region
        aws.cloudwatch.MetricAlarm(
            f"{self.prefix}-recover",
            alarm_description=f"{self.prefix}: its host failed; EC2 recovers it onto new hardware",
            namespace="AWS/EC2",
            metric_name=RECOVER_METRIC,
            dimensions={"InstanceId": instance.id},
            statistic="Maximum",
            period=RECOVER_PERIOD_SECONDS,
            evaluation_periods=RECOVER_EVALUATION_PERIODS,
            threshold=0,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="missing",
            alarm_actions=[
                pulumi.Output.all(partition, region).apply(
                    lambda pr: RECOVER_ACTION.format(partition=pr[0], region=pr[1])
                )
            ],
            opts=self.child(),
        )
