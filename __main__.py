"""webstack: settings -> network -> storage -> database -> app hosting, then the stack outputs."""

import pulumi

from components.database import Database
from components.hosting import AppHosting, Placement
from components.network import Network
from components.settings import load_settings
from components.storage import Storage
from components.tagging import aws_provider

settings = load_settings()
aws_opts = pulumi.ResourceOptions(providers=[aws_provider(settings)])

network = Network("network", settings.network, aws_opts)
storage = Storage("storage", settings.storage, settings.protect_data, aws_opts)
database = Database(
    "database",
    settings.database,
    vpc_id=network.vpc_id,
    subnet_ids=network.private_subnet_ids,
    protect=settings.protect_data,
    opts=aws_opts,
)
app = AppHosting(
    "app",
    settings.app,
    Placement(
        vpc_id=network.vpc_id,
        load_balancer_subnet_ids=network.public_subnet_ids,
        instance_subnet_ids=network.app_subnet_ids,
        instances_in_public_subnets=network.app_in_public_subnets,
    ),
    environment={
        **settings.app.environment_variables,
        "BUCKET_NAME": storage.bucket_name,
        "DB_HOST": database.address,
        "DB_PORT": database.port.apply(str),
        "DB_NAME": database.db_name,
        "DB_SECRET_ARN": database.secret_arn,
        "AWS_REGION": settings.region,
    },
    opts=aws_opts,
)
database.allow_from(app.security_group)
storage.grant_read_write(app.instance_role)
database.grant_secret_read(app.instance_role)

pulumi.export("region", settings.region)
pulumi.export("vpcId", network.vpc_id)
pulumi.export("publicSubnetIds", network.public_subnet_ids)
pulumi.export("privateSubnetIds", network.private_subnet_ids)
pulumi.export("bucketName", storage.bucket_name)
pulumi.export("bucketArn", storage.bucket_arn)
pulumi.export("dbAddress", database.address)
pulumi.export("dbPort", database.port)
pulumi.export("dbName", database.db_name)
pulumi.export("dbSecretArn", database.secret_arn)
pulumi.export("dbSecurityGroupId", database.security_group_id)
pulumi.export("appName", app.application_name)
pulumi.export("appEnvironmentName", app.environment_name)
pulumi.export("appUrl", app.url)
pulumi.export("appCname", app.cname)
pulumi.export("appSecurityGroupId", app.security_group_id)
pulumi.export("appInstanceRoleArn", app.instance_role_arn)
