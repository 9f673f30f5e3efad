"""What a reviewer reads: the offline plan (`python -m tools.plan`), the plan made readable
(unknowns marked, nested JSON as data), and the diff of two plans with the arguments that force a
replacement (`python -m tools.diff`)."""
