"""Network: subnets, routes and NAT per mode, the S3 endpoint, flow logs, bring your own."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.network import (
    Network,
    NetworkArgs,
    NetworkSettings,
    subnet_cidrs,
    subnets_offered,
)
from components.settings import ConfigError
from tests.support import by_id, component, settings_of, statements
from tools.engine.mock_engine import Run

SUBNET = "aws:ec2/subnet:Subnet"
ROUTE = "aws:ec2/route:Route"
TABLE = "aws:ec2/routeTable:RouteTable"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
NAT = "aws:ec2/natGateway:NatGateway"
EIP = "aws:ec2/eip:Eip"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"


ZONES = ("us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f")


def network(**fields: Any) -> Run:
    """A Network alone in an empty stack, from config-style settings; its outputs exported."""
    settings = settings_of(NetworkSettings, "webstack:network", fields)

    def build() -> None:
        net = Network("network", NetworkArgs(settings, zones=ZONES))
        pulumi.export("vpcId", net.vpc_id)
        pulumi.export("publicSubnetIds", net.public_subnet_ids)
        pulumi.export("privateSubnetIds", net.private_subnet_ids)
        pulumi.export("appSubnetIds", net.app_subnet_ids)

    return component(("network", fields), build)


def private_default_routes(r: Run) -> dict[str, str | None]:
    """Private subnet name -> the NAT gateway name its table routes 0.0.0.0/0 through."""
    tables = by_id(r, TABLE)
    nats = by_id(r, NAT)
    subnets = by_id(r, SUBNET)
    via = {
        tables[route.inputs["routeTableId"]].name: nats[route.inputs["natGatewayId"]].name
        for route in r.of_type(ROUTE)
        if "natGatewayId" in route.inputs
    }
    result: dict[str, str | None] = {}
    for association in r.of_type(ASSOCIATION):
        subnet = subnets[association.inputs["subnetId"]]
        if subnet.inputs["tags"]["tier"] == "private":
            result[subnet.name] = via.get(tables[association.inputs["routeTableId"]].name)
    return result


@pytest.mark.parametrize("zones", [2, 3])
def test_one_public_and_one_private_subnet_per_zone(zones: int) -> None:
    r = network(availabilityZones=zones, natGateways="single")
    subnets = r.of_type(SUBNET)
    tiers = [s.inputs["tags"]["tier"] for s in subnets]
    assert (tiers.count("public"), tiers.count("private")) == (zones, zones)
    assert sorted({s.inputs["availabilityZone"] for s in subnets}) == [
        f"us-east-1{c}" for c in "abc"[:zones]
    ]
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in subnets)
    # one public table shared by the zones, one private table per zone, every subnet associated
    assert len(r.of_type(TABLE)) == 1 + zones
    assert len(r.of_type(ASSOCIATION)) == 2 * zones
    assert len(r.of_type(ROUTE)) == 1 + zones


def test_vpc_has_dns_and_the_configured_block() -> None:
    vpc = network().one("aws:ec2/vpc:Vpc")
    assert vpc.inputs["cidrBlock"] == "10.0.0.0/16"
    assert vpc.inputs["enableDnsSupport"] is True
    assert vpc.inputs["enableDnsHostnames"] is True


def test_subnet_cidrs_are_fixed_slots_that_never_move() -> None:
    assert subnet_cidrs("10.0.0.0/16", 2) == (
        ["10.0.0.0/20", "10.0.16.0/20"],
        ["10.0.128.0/20", "10.0.144.0/20"],
    )
    three = subnet_cidrs("10.0.0.0/16", 3)
    assert three[0][:2] == ["10.0.0.0/20", "10.0.16.0/20"]
    assert three[1][:2] == ["10.0.128.0/20", "10.0.144.0/20"]
    assert subnet_cidrs("192.168.4.0/24", 6)[1][-1] == "192.168.4.208/28"


def test_public_subnets_route_to_the_internet_gateway() -> None:
    r = network()
    gateway = r.one("aws:ec2/internetGateway:InternetGateway")
    (public_route,) = [x for x in r.of_type(ROUTE) if "gatewayId" in x.inputs]
    assert public_route.inputs["gatewayId"] == gateway.id
    assert public_route.inputs["destinationCidrBlock"] == "0.0.0.0/0"


def test_single_nat_serves_every_private_subnet() -> None:
    r = network(availabilityZones=3, natGateways="single")
    assert (len(r.of_type(NAT)), len(r.of_type(EIP))) == (1, 1)
    assert private_default_routes(r) == {
        "network-private-a": "network-nat-a",
        "network-private-b": "network-nat-a",
        "network-private-c": "network-nat-a",
    }
    nat = r.one(NAT)
    assert by_id(r, SUBNET)[nat.inputs["subnetId"]].name == "network-public-a"


def test_per_az_nat_routes_each_zone_through_its_own_gateway() -> None:
    r = network(availabilityZones=3, natGateways="perAz")
    assert (len(r.of_type(NAT)), len(r.of_type(EIP))) == (3, 3)
    assert private_default_routes(r) == {
        "network-private-a": "network-nat-a",
        "network-private-b": "network-nat-b",
        "network-private-c": "network-nat-c",
    }
    subnets = by_id(r, SUBNET)
    for nat in r.of_type(NAT):
        assert subnets[nat.inputs["subnetId"]].name == nat.name.replace("nat", "public")
    assert all(e.inputs["domain"] == "vpc" for e in r.of_type(EIP))


def test_a_nat_instance_serves_every_private_subnet_through_its_interface() -> None:
    r = network(availabilityZones=3, natGateways="instance")
    assert r.of_type(NAT) == []
    instance = r.one("aws:ec2/instance:Instance")
    assert instance.inputs["instanceType"] == "t4g.nano"
    assert by_id(r, SUBNET)[instance.inputs["subnetId"]].name == "network-public-a"
    eni = instance.outputs["primaryNetworkInterfaceId"]
    routes = [x for x in r.of_type(ROUTE) if "networkInterfaceId" in x.inputs]
    # The same route names as with gateways: switching modes updates each route in place.
    assert sorted(x.name for x in routes) == [f"network-private-{z}-default-route" for z in "abc"]
    assert {x.inputs["networkInterfaceId"] for x in routes} == {eni}
    assert all("natGatewayId" not in x.inputs for x in routes)
    ingress = r.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert ingress.inputs["cidrIpv4"] == "10.0.0.0/16"  # the VPC's own block
    assert r.outputs["appSubnetIds"] == r.outputs["privateSubnetIds"]


def test_the_nat_instance_type_is_a_setting() -> None:
    r = network(natGateways="instance", natInstanceType="t4g.micro")
    assert r.one("aws:ec2/instance:Instance").inputs["instanceType"] == "t4g.micro"


def test_interface_endpoints_sit_in_every_private_subnet_with_private_dns() -> None:
    r = network(availabilityZones=3, endpoints=["ssm", "logs", "elasticbeanstalk-health"])
    interfaces = [e for e in r.of_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Interface"]
    assert sorted(e.inputs["serviceName"] for e in interfaces) == [
        "com.amazonaws.us-east-1.elasticbeanstalk-health",
        "com.amazonaws.us-east-1.logs",
        "com.amazonaws.us-east-1.ssm",
    ]
    private = {x.id for x in r.of_type(SUBNET) if x.inputs["tags"]["tier"] == "private"}
    group = r.one("aws:ec2/securityGroup:SecurityGroup")
    for endpoint in interfaces:
        assert endpoint.inputs["privateDnsEnabled"] is True
        assert set(endpoint.inputs["subnetIds"]) == private
        assert endpoint.inputs["securityGroupIds"] == [group.id]
    rule = r.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert (rule.inputs["securityGroupId"], rule.inputs["cidrIpv4"]) == (group.id, "10.0.0.0/16")
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == (
        "tcp",
        443,
        443,
    )


def test_no_endpoints_no_endpoint_group() -> None:
    r = network()
    assert r.of_type("aws:ec2/securityGroup:SecurityGroup") == []
    assert [e.inputs["vpcEndpointType"] for e in r.of_type(ENDPOINT)] == ["Gateway"]


def test_no_nat_means_no_route_out_of_private_subnets_and_app_in_public() -> None:
    r = network(natGateways="none")
    assert r.of_type(NAT) == [] and r.of_type(EIP) == []
    assert private_default_routes(r) == {"network-private-a": None, "network-private-b": None}
    assert r.outputs["appSubnetIds"] == r.outputs["publicSubnetIds"]


def test_with_nat_the_app_runs_in_the_private_subnets() -> None:
    r = network(natGateways="single")
    assert r.outputs["appSubnetIds"] == r.outputs["privateSubnetIds"]


def test_s3_endpoint_is_on_every_private_route_table() -> None:
    r = network(availabilityZones=3, natGateways="perAz")
    endpoint = r.one(ENDPOINT)
    private_tables = {t.id for t in r.of_type(TABLE) if "private" in t.name}
    assert set(endpoint.inputs["routeTableIds"]) == private_tables
    assert endpoint.inputs["vpcEndpointType"] == "Gateway"
    assert endpoint.inputs["serviceName"] == "com.amazonaws.us-east-1.s3"


def test_s3_endpoint_also_serves_public_subnets_when_the_app_runs_there() -> None:
    r = network(natGateways="none")
    tables = {t.id for t in r.of_type(TABLE)}
    assert set(r.one(ENDPOINT).inputs["routeTableIds"]) == tables


def test_default_security_group_is_stripped() -> None:
    group = network().one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert "ingress" not in group.inputs or group.inputs["ingress"] == []
    assert "egress" not in group.inputs or group.inputs["egress"] == []


def test_flow_logs_go_to_a_retained_log_group_through_a_scoped_role() -> None:
    r = network(flowLogRetentionDays=14)
    flow_log = r.one("aws:ec2/flowLog:FlowLog")
    group = r.one("aws:cloudwatch/logGroup:LogGroup", "network-flow-logs")
    assert flow_log.inputs["trafficType"] == "ALL"
    assert flow_log.inputs["logDestination"] == group.outputs["arn"]
    assert group.inputs["retentionInDays"] == 14
    (trust,) = statements(r.one("aws:iam/role:Role", "network-flow-logs-role"), "assumeRolePolicy")
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    write, find = statements(r.one("aws:iam/rolePolicy:RolePolicy", "network-flow-logs-policy"))
    assert write["Resource"] == [group.outputs["arn"], group.outputs["arn"] + ":*"]
    assert write["Action"] == [
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogStreams",
    ]
    # AWS lists DescribeLogGroups among the actions flow-log delivery needs; the action takes
    # no resource but "*" (a log-group ARN is a RESOURCE_MISMATCH to parliament, and to IAM).
    assert find["Action"] == "logs:DescribeLogGroups"
    assert find["Resource"] == "*"


def test_flow_logs_can_be_turned_off() -> None:
    r = network(flowLogs=False)
    assert r.of_type("aws:ec2/flowLog:FlowLog") == []
    assert "network-flow-logs-role" not in [x.name for x in r.of_type("aws:iam/role:Role")]


def test_bring_your_own_network_creates_nothing_and_passes_ids_through() -> None:
    own = {
        "vpcId": "vpc-0123456789abcdef0",
        "publicSubnetIds": ["subnet-0000000000000000a", "subnet-0000000000000000b"],
        "privateSubnetIds": ["subnet-0000000000000000c", "subnet-0000000000000000d"],
    }
    r = network(**own)
    component = r.one("webstack:network:Network")
    assert r.children(component) == []
    assert not any(
        t.startswith(("aws:ec2/vpc:", "aws:ec2/subnet:", "aws:ec2/natGateway")) for t in r.types()
    )
    assert r.outputs["vpcId"] == own["vpcId"]
    assert r.outputs["privateSubnetIds"] == own["privateSubnetIds"]
    assert r.outputs["appSubnetIds"] == own["privateSubnetIds"]


def test_a_block_too_small_for_the_subnets_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        network(cidrBlock="10.0.0.0/26", availabilityZones=3)
    (problem,) = caught.value.problems
    assert problem.startswith("webstack:network.cidrBlock: '10.0.0.0/26' is too small for 3 zones")
    assert "use a /24 or larger block" in problem


def test_an_endpoint_goes_only_into_the_zones_that_offer_its_service() -> None:
    zones, subnets = (
        ["us-east-1a", "us-east-1b", "us-east-1c"],
        ["subnet-a", "subnet-b", "subnet-c"],
    )
    assert subnets_offered(["us-east-1a", "us-east-1c", "us-east-1d"], zones, subnets) == [
        "subnet-a",
        "subnet-c",
    ]


def test_endpoint_service_names_are_aws_answer_cn_prefixed_in_china() -> None:
    from tools.engine.mock_engine import run_component

    def build() -> None:
        Network(
            "network",
            NetworkArgs(
                settings_of(NetworkSettings, "webstack:network", {"endpoints": ["sqs", "logs"]}),
                zones=("cn-north-1a", "cn-north-1b"),
            ),
        )

    r = run_component(build, {"aws:region": "cn-north-1"})
    names = sorted(
        e.inputs["serviceName"]
        for e in r.of_type(ENDPOINT)
        if e.inputs["vpcEndpointType"] == "Interface"
    )
    assert names == ["cn.com.amazonaws.cn-north-1.sqs", "com.amazonaws.cn-north-1.logs"]
