"""Query logic: SQL for a viewer, always through resolvers.scope, redaction through
resolvers.redaction. Returns plain rows and dataclasses; knows nothing of strawberry."""
