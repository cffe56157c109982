"""HTTP clients for Commerce REST, Login with Amazon and the Selling Partner API (no Flask in here)."""
