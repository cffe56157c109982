"""The bridge between Adobe Commerce order cancels and Amazon Seller Central.

``domain`` holds the rules, ``storage`` the database, ``clients`` the HTTP clients, ``pipeline`` the worker,
``web`` the Flask app and ``cli`` the command line; ``composition`` wires them together.
"""
