"""The use cases: taking in a cancel, reading Amazon's view of an order, signing in, the console's read models.

Each takes the named collaborators it needs (records, clients, settings' values); the composition root builds them.
"""
