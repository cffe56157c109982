"""The cancellation pipeline: the worker, its steps, and what the steps share."""
