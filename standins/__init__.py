"""Local stand-ins of Amazon (LWA + SP-API) and Adobe Commerce: test and demo equipment, not the product.

Real HTTP servers on loopback for the demo, the tests and the benchmarks. They enforce what the real services
enforce (auth, signatures, quotas, error envelopes), each from its own reading of the published contracts, and
never import the bridge: the bridge is tested against them, not against itself.
"""
