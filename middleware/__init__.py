"""Plain ASGI middleware, one idea per module. `server.py` stacks them, outermost first:

access_log -> security_headers -> (CORS) -> body_limit -> unavailable -> auth -> ratelimit -> viewer -> routes
"""
