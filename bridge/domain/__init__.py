"""The rules of the bridge as plain data and functions: no Flask, no HTTP, no SQL."""
