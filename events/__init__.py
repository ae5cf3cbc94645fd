"""Events for GraphQL subscriptions (issue 18 §3, docs/events.md), one file per part:

- `notices.py`: the NOTIFY payloads (ids only) parsed into typed notices;
- `listener.py`: the one LISTEN connection per process, outside the request pool, reconnected
  with backoff;
- `hub.py`: reads what an event needs once and fans it out to the subscribers its filter lets
  hear it; turnout through `throttle.py`;
- `filters.py`: who hears what, with the policy's covers and the one redaction rule;
- `sockets.py`: the open websockets: limits per user and per process, closing when a token
  expires, a session ends or a role is revoked;
- `handshake.py`: authentication of `connection_init` with the HTTP token rules.
"""
