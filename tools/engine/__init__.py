"""The program run offline: the mock engine, fake AWS's answers, stack files read as Pulumi reads
them. The tests, the offline plan and the cost floor all run stacks through here."""
