"""The cancellation pipeline: each module is one step a worker takes a cancel request through."""
