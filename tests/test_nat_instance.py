"""The NAT instance: built alone, its instance, address, group, role and recovery alarm."""

from __future__ import annotations

import json
import subprocess

import pulumi
import pulumi_aws as aws
import pytest

from components.nat_instance import USER_DATA, NatInstance, NatInstanceArgs
from tests.support import component
from tools.engine.fake_aws import answer_invoke
from tools.engine.mock_engine import Run

INSTANCE = "aws:ec2/instance:Instance"


def nat(instance_type: str = "t4g.nano") -> Run:
    def build() -> None:
        gateway = aws.ec2.InternetGateway("igw", vpc_id="vpc-0123456789abcdef0")
        built = NatInstance(
            "nat",
            NatInstanceArgs(
                instance_type=instance_type,
                vpc_id="vpc-0123456789abcdef0",
                vpc_cidr="10.0.0.0/16",
                subnet_id="subnet-0123456789abcdef0",
                internet_gateway=gateway,
            ),
        )
        pulumi.export("networkInterfaceId", built.network_interface_id)
        pulumi.export("publicIp", built.public_ip)

    return component(("nat-instance", instance_type), build)


def test_the_instance_forwards_with_imdsv2_only_and_no_key() -> None:
    instance = nat().one(INSTANCE)
    inputs = instance.inputs
    assert inputs["instanceType"] == "t4g.nano"
    assert inputs["sourceDestCheck"] is False  # it forwards what is not addressed to it
    assert inputs["metadataOptions"]["httpTokens"] == "required"
    assert inputs["rootBlockDevice"] == {"encrypted": True, "volumeType": "gp3"}  # the AMI's size
    assert "ebsOptimized" not in inputs  # the type's own default: some types refuse it
    assert "keyName" not in inputs  # reached through SSM only
    assert inputs["subnetId"] == "subnet-0123456789abcdef0"
    assert inputs["associatePublicIpAddress"] is False
    assert inputs["userData"] == USER_DATA and inputs["userDataReplaceOnChange"] is True
    # A newer AL2023 release never replaces a running NAT.
    assert instance.ignore_changes == ["ami"]


@pytest.mark.parametrize(("instance_type", "arch"), [("t4g.nano", "arm64"), ("t3.nano", "x86_64")])
def test_the_ami_is_amazon_linux_2023_of_the_types_architecture(
    instance_type: str, arch: str
) -> None:
    expected = answer_invoke(
        "aws:ssm/getParameter:getParameter",
        {"name": f"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"},
        "us-east-1",
    )
    assert nat(instance_type).one(INSTANCE).inputs["ami"] == expected["insecureValue"]


def test_its_group_admits_only_the_vpc_and_lets_it_out() -> None:
    r = nat()
    group = r.one("aws:ec2/securityGroup:SecurityGroup")
    (ingress,) = r.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    (egress,) = r.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    assert ingress.inputs["securityGroupId"] == group.id == egress.inputs["securityGroupId"]
    assert (ingress.inputs["ipProtocol"], ingress.inputs["cidrIpv4"]) == ("-1", "10.0.0.0/16")
    assert (egress.inputs["ipProtocol"], egress.inputs["cidrIpv4"]) == ("-1", "0.0.0.0/0")
    assert r.one(INSTANCE).inputs["vpcSecurityGroupIds"] == [group.id]


def test_it_is_managed_by_ssm_through_its_own_role() -> None:
    r = nat()
    role = r.one("aws:iam/role:Role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    (attachment,) = r.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    profile = r.one("aws:iam/instanceProfile:InstanceProfile")
    assert profile.inputs["role"] == role.outputs["name"]
    assert r.one(INSTANCE).inputs["iamInstanceProfile"] == profile.outputs["name"]


def test_its_elastic_ip_is_its_address_once_the_vpc_has_its_gateway() -> None:
    r = nat()
    eip = r.one("aws:ec2/eip:Eip")
    assert (eip.inputs["domain"], eip.inputs["instance"]) == ("vpc", r.one(INSTANCE).id)
    gateway = r.one("aws:ec2/internetGateway:InternetGateway")
    assert gateway.urn in eip.dependencies
    assert r.outputs["publicIp"] == eip.outputs["publicIp"]
    assert r.outputs["networkInterfaceId"] == r.one(INSTANCE).outputs["primaryNetworkInterfaceId"]


def test_a_failed_host_is_recovered_by_a_cloudwatch_alarm() -> None:
    r = nat()
    alarm = r.one("aws:cloudwatch/metricAlarm:MetricAlarm")
    inputs = alarm.inputs
    assert (inputs["namespace"], inputs["metricName"]) == ("AWS/EC2", "StatusCheckFailed_System")
    assert inputs["dimensions"] == {"InstanceId": r.one(INSTANCE).id}
    assert (inputs["period"], inputs["evaluationPeriods"], inputs["threshold"]) == (60, 2, 0)
    assert inputs["comparisonOperator"] == "GreaterThanThreshold"
    assert inputs["alarmActions"] == ["arn:aws:automate:us-east-1:ec2:recover"]


def test_the_user_data_forwards_only_once_masquerading_is_in_place() -> None:
    # The order that keeps a rebooted NAT from forwarding untranslated traffic.
    masquerade = USER_DATA.index('oifname "$IFACE" masquerade')
    check = USER_DATA.index("nft list chain ip nat_instance postrouting | grep -q masquerade")
    forward = USER_DATA.index("sysctl -q -w net.ipv4.ip_forward=1")
    assert masquerade < check < forward
    assert "systemctl enable --now nat-instance.service" in USER_DATA  # every boot
    assert "dnf install -y -q nftables" in USER_DATA and "/swapfile" in USER_DATA


def test_the_user_data_is_valid_bash() -> None:
    done = subprocess.run(["bash", "-n"], input=USER_DATA, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
