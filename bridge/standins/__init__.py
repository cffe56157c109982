"""Local stand-ins of Amazon (LWA + SP-API) and Commerce, built from the official models.

Real HTTP servers on loopback for the demo and the tests: they enforce what the real services enforce
(auth, quotas, error envelopes) so the bridge's clients are exercised for real.
"""
