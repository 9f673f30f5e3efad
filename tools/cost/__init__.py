"""What a stack costs when idle: AWS's list prices and the monthly floor of a plan."""
