"""The HTTP endpoints beside the GraphQL view, declared in server.py: health (`health.py`), the
bulk transfer endpoints (`transfer.py`) and the printed walk lists and slips (`printouts.py`).
They share the app's state (`state.py`), the viewer the middleware loaded
(`state.request_viewer`, as /graphql does) and the error rendering (a `core.errors` class raised
here is answered by middleware/errors.py)."""
