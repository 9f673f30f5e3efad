"""webstack's tooling, by concern: `engine` (the program under mocks, fake AWS, stack files),
`review` (the offline plan, its readable form, `make diff` and the replacement table), `verify`
(the plan checked by the real AWS provider), `cost` (list prices and the floor), `docs` (the
generated README table and schema) and `benchmark` (the timings). `python -m tools.plan`,
`tools.diff`, `tools.verify`, `tools.docs` and `tools.benchmark` are the entry points."""
