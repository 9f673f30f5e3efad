"""`make verify`: the offline plan judged by the real AWS provider, offline.

`translate` turns plan documents into Terraform JSON for hashicorp/aws (guided by the provider's
own `schema`, with pulumi-aws's `names`); `terraform` runs Terraform on it with fake credentials
and no network; `report` reads the provider's errors back as Pulumi resources and stack-file
keys; `state` builds the state a first `pulumi up` would leave, and `second_up` plans changed
stack files against it and compares the provider's decisions with `make diff`'s.
"""
