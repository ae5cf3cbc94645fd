"""Plain ASGI middleware, one idea per module. `server.py` stacks them, outermost first:

access_log -> security_headers -> (CORS) -> errors -> body_limit -> auth -> ratelimit -> viewer -> routes

Each refuses a request by raising a `core.errors` class; `errors` renders it (responses.py).
"""
