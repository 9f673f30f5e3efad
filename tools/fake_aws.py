"""Fake AWS: what the provider would answer for each invoke, and the state AWS reports per resource.

The mock engine (`tools/mock_engine.py`) asks this module; keeping the answers here lets the data
grow (regions, engine versions, solution stacks) without touching the engine's mechanics.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

ACCOUNT_ID = "123456789012"

# What `DescribeAvailableSolutionStacks` answers (a realistic subset); the getSolutionStack mock
# filters it with the program's regex like the provider does, newest first.
SOLUTION_STACKS = (
    "64bit Amazon Linux 2023 v4.7.2 running Python 3.13",
    "64bit Amazon Linux 2023 v4.7.2 running Python 3.12",
    "64bit Amazon Linux 2023 v4.7.2 running Python 3.11",
    "64bit Amazon Linux 2023 v4.6.0 running Python 3.12",
    "64bit Amazon Linux 2023 v6.6.1 running Node.js 22",
    "64bit Amazon Linux 2023 v4.6.1 running Docker",
    "64bit Amazon Linux 2 v3.8.4 running Python 3.8",
)
# Latest minor version and parameter group family RDS reports per engine and major version.
ENGINE_VERSIONS = {
    ("postgres", "17"): ("17.6", "postgres17"),
    ("postgres", "16"): ("16.10", "postgres16"),
    ("postgres", "15"): ("15.14", "postgres15"),
    ("mysql", "8.4"): ("8.4.6", "mysql8.4"),
    ("mysql", "8.0"): ("8.0.43", "mysql8.0"),
    ("mariadb", "11.4"): ("11.4.8", "mariadb11.4"),
    ("mariadb", "10.11"): ("10.11.14", "mariadb10.11"),
}


def _hex(seed: str, length: int = 17) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def answer_invoke(token: str, inputs: dict[str, Any], region: str) -> dict[str, Any]:
    """What AWS (through the provider) would answer for one invoke of the program."""
    if token == "aws:index/getCallerIdentity:getCallerIdentity":
        return {
            "accountId": ACCOUNT_ID,
            "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/mock",
            "userId": "AIDAMOCK",
            "id": ACCOUNT_ID,
        }
    if token == "aws:index/getPartition:getPartition":
        return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
    if token == "aws:index/getRegion:getRegion":
        return {"region": region, "name": region, "id": region}
    if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
        letters = "abcdef"
        return {
            "names": [f"{region}{c}" for c in letters],
            "zoneIds": [f"use1-az{i}" for i in range(1, len(letters) + 1)],
            "id": region,
        }
    if token == "aws:elasticbeanstalk/getSolutionStack:getSolutionStack":
        pattern = re.compile(inputs["nameRegex"])
        matches = [s for s in SOLUTION_STACKS if pattern.search(s)]
        if not matches:
            raise ValueError(
                "Your query returned no results. Please change your search criteria and try again."
            )
        return {"name": matches[0], "nameRegex": inputs["nameRegex"], "id": "mock"}
    if token == "aws:rds/getEngineVersion:getEngineVersion":
        key = (inputs["engine"], inputs.get("version"))
        if key not in ENGINE_VERSIONS:
            raise ValueError(f"no RDS engine versions match the arguments {key}")
        version, family = ENGINE_VERSIONS[key]
        return {
            "engine": key[0],
            "version": version,
            "versionActual": version,
            "parameterGroupFamily": family,
            "id": version,
        }
    if token == "aws:lb/getListener:getListener":
        arn = inputs["loadBalancerArn"].replace(":loadbalancer/", ":listener/")
        return {
            "arn": f"{arn}/{_hex(arn, 16)}",
            "loadBalancerArn": inputs["loadBalancerArn"],
            "port": inputs["port"],
            "protocol": "HTTP",
            "id": arn,
        }
    raise NotImplementedError(f"the mock engine has no answer for invoke {token}")


def resource_state(
    typ: str, name: str, inputs: dict[str, Any], region: str
) -> tuple[str, dict[str, Any]]:
    """The id and state AWS would report for a new resource of this type."""
    state = dict(inputs)
    suffix = _hex(f"{typ}/{name}", 8)
    arn_head = f"arn:aws:{{}}:{region}:{ACCOUNT_ID}"
    prefixes = {
        "aws:ec2/vpc:Vpc": "vpc",
        "aws:ec2/subnet:Subnet": "subnet",
        "aws:ec2/securityGroup:SecurityGroup": "sg",
        "aws:ec2/routeTable:RouteTable": "rtb",
        "aws:ec2/internetGateway:InternetGateway": "igw",
        "aws:ec2/natGateway:NatGateway": "nat",
        "aws:ec2/eip:Eip": "eipalloc",
        "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
        "aws:ec2/flowLog:FlowLog": "fl",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr",
    }
    if typ in prefixes:
        resource_id = f"{prefixes[typ]}-{_hex(f'{typ}/{name}')}"
        if typ == "aws:ec2/securityGroup:SecurityGroup":
            state["arn"] = f"{arn_head.format('ec2')}:security-group/{resource_id}"
        return resource_id, state
    if typ == "aws:s3/bucket:Bucket":
        bucket = inputs.get("bucket") or f"{inputs.get('bucketPrefix') or name + '-'}{suffix}"
        state.update(
            bucket=bucket,
            arn=f"arn:aws:s3:::{bucket}",
            bucketRegionalDomainName=f"{bucket}.s3.{region}.amazonaws.com",
            bucketDomainName=f"{bucket}.s3.amazonaws.com",
            region=region,
        )
        return bucket, state
    if typ == "aws:rds/instance:Instance":
        identifier = inputs.get("identifier") or f"{name}-{suffix}"
        address = f"{identifier}.c{_hex(identifier, 11)}.{region}.rds.amazonaws.com"
        port = int(inputs.get("port") or 5432)
        secret_arn = (
            f"{arn_head.format('secretsmanager')}:secret:rds!db-{_hex(identifier, 8)}-"
            f"{_hex(identifier + 'x', 6)}"
        )
        state.update(
            identifier=identifier,
            address=address,
            port=port,
            endpoint=f"{address}:{port}",
            arn=f"{arn_head.format('rds')}:db:{identifier}",
            resourceId=f"db-{_hex(identifier, 26).upper()}",
            masterUserSecrets=[
                {
                    "secretArn": secret_arn,
                    "kmsKeyId": f"{arn_head.format('kms')}:key/{_hex(identifier, 8)}",
                    "secretStatus": "active",
                }
            ],
        )
        return identifier, state
    if typ == "aws:elasticbeanstalk/environment:Environment":
        env_name = inputs.get("name") or f"{name}-{suffix}"
        state.update(
            name=env_name,
            cname=f"{env_name}.{region}.elasticbeanstalk.com",
            endpointUrl=f"awseb-AWSEB-{suffix}.{region}.elb.amazonaws.com",
            loadBalancers=[
                f"{arn_head.format('elasticloadbalancing')}:loadbalancer/app/awseb-AWSEB-{suffix}/{_hex(env_name, 16)}"
            ],
            arn=f"{arn_head.format('elasticbeanstalk')}:environment/{inputs.get('application')}/{env_name}",
        )
        return f"e-{_hex(env_name, 10)}", state
    if typ == "random:index/randomId:RandomId":
        digest = _hex(name, int(inputs.get("byteLength", 4)) * 2)
        state.update(hex=digest, dec=str(int(digest, 16)), b64Url=digest, b64Std=digest)
        return digest, state
    if typ.startswith("pulumi:providers:"):
        return f"{name}-provider-id", state
    physical = inputs.get("name") or f"{name}-{suffix}"
    state.setdefault("name", physical)
    service = typ.split(":")[1].split("/")[0]
    kinds = {
        "aws:iam/role:Role": f"arn:aws:iam::{ACCOUNT_ID}:role/{physical}",
        "aws:iam/instanceProfile:InstanceProfile": f"arn:aws:iam::{ACCOUNT_ID}:instance-profile/{physical}",
        "aws:cloudwatch/logGroup:LogGroup": f"{arn_head.format('logs')}:log-group:{physical}",
        "aws:elasticbeanstalk/application:Application": f"{arn_head.format('elasticbeanstalk')}:application/{physical}",
    }
    state.setdefault(
        "arn", kinds.get(typ, f"{arn_head.format(service)}:{typ.split(':')[-1].lower()}/{physical}")
    )
    return str(physical), state
