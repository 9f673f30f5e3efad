"""CloudWatch Logs facts every component that keeps logs needs."""

# The only values CloudWatch Logs accepts as a retention period (days).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653)
