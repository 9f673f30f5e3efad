"""webstack: settings -> network -> storage -> database -> app hosting -> alarms, then outputs."""

import pulumi

from components.alarms import Alarms, AlarmsArgs
from components.database import Database, DatabaseArgs
from components.hosting import (
    AppConnections,
    AppHosting,
    AppHostingArgs,
    JobQueue,
    Worker,
    WorkerArgs,
)
from components.lookups import look_up
from components.network import Network, NetworkArgs
from components.settings import load_settings
from components.storage import Storage, StorageArgs
from components.tagging import aws_provider

settings = load_settings()
provider = aws_provider(settings.region, settings.tags)
facts = look_up(settings, pulumi.InvokeOptions(provider=provider))
aws_opts = pulumi.ResourceOptions(providers=[provider])
replica_region = settings.database.backup_replica_region
replica_provider = (
    aws_provider(replica_region, settings.tags, name=f"aws-{replica_region}")
    if replica_region
    else None
)

network = Network("network", NetworkArgs(settings.network, zones=facts.zones), aws_opts)
storage = Storage(
    "storage",
    StorageArgs(
        settings.storage,
        protect=settings.protect_data,
        load_balancer_logs=settings.app.access_logs,
    ),
    aws_opts,
)
database = Database(
    "database",
    DatabaseArgs(
        vpc_id=network.vpc_id,
        subnet_ids=network.private_subnet_ids,
        parameter_group_family=facts.parameter_group_family,
        settings=settings.database,
        protect=settings.protect_data,
        replica_provider=replica_provider,
    ),
    aws_opts,
)
jobs = JobQueue("jobs", settings.worker, aws_opts) if settings.worker.enabled else None
connections = AppConnections(
    bucket_name=storage.bucket_name,
    db_engine=settings.database.engine,
    db_host=database.address,
    db_port=database.port.apply(str),
    db_name=database.db_name,
    db_secret_arn=database.secret_arn,
    aws_region=settings.region,
    queue_url=jobs.url if jobs else None,
)
app = AppHosting(
    "app",
    AppHostingArgs(
        vpc_id=network.vpc_id,
        public_subnet_ids=network.public_subnet_ids,
        app_subnet_ids=network.app_subnet_ids,
        instances_in_public_subnets=network.app_in_public_subnets,
        connections=connections,
        solution_stack=facts.solution_stack,
        settings=settings.app,
        access_logs=storage.access_logs,
        load_balancer_logs=storage.load_balancer_logs,
        environment_zone_id=facts.environment_zone_id,
        egress=network.egress,
    ),
    aws_opts,
)
database.allow_from(app.security_group)
storage.grant_read_write(app.instance_role)
database.grant_secret_read(app.instance_role)
worker = None
if jobs:
    jobs.grant_send(app.instance_role)
    worker = Worker(
        "worker",
        WorkerArgs(
            settings=settings.worker,
            app=app,
            app_settings=settings.app,
            queue=jobs,
            vpc_id=network.vpc_id,
            subnet_ids=network.app_subnet_ids,
            instances_in_public_subnets=network.app_in_public_subnets,
            connections=connections,
            egress=network.egress,
        ),
        aws_opts,
    )
    database.allow_from(worker.security_group)
    storage.grant_read_write(worker.instance_role)
    database.grant_secret_read(worker.instance_role)
if settings.alarms_on:
    alarms = Alarms(
        "alarms",
        AlarmsArgs(
            environment_name=app.environment_name,
            database=database.watched(),
            load_balancer_arn=app.load_balancer_arn,
            settings=settings.alarms,
            worker=worker.watched() if worker else None,
        ),
        aws_opts,
    )
    pulumi.export("alarmTopicArn", alarms.topic_arn)

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
if settings.app.domain.name:
    pulumi.export("appDomain", settings.app.domain.name)
if worker and jobs:
    pulumi.export("queueUrl", jobs.url)
    pulumi.export("deadLetterQueueUrl", jobs.dead_letter_url)
    pulumi.export("workerEnvironmentName", worker.environment_name)
