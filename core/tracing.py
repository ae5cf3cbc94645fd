"""OpenTelemetry traces, only when OTEL_EXPORTER_OTLP_ENDPOINT is set (off by default): a span per
HTTP request (the Starlette instrumentation) with a child span per SQL statement (the asyncpg
instrumentation), sent in batches over OTLP/HTTP. The packages are the optional extra
`boothgraph[otel]`; an endpoint set without them stops the server with a message saying so, rather
than running without the traces someone asked for."""

from __future__ import annotations

import logging
import os
from typing import Any

from starlette.applications import Starlette

from core.settings import Settings

log = logging.getLogger("boothgraph.tracing")

_asyncpg_instrumented = False


class TracingUnavailable(RuntimeError):
    """OTEL_EXPORTER_OTLP_ENDPOINT is set but the `otel` extra is not installed."""


def traces_endpoint(base: str) -> str:
    """The OTLP/HTTP traces URL for an endpoint given as the collector's base URL (the spec's rule
    for OTEL_EXPORTER_OTLP_ENDPOINT) or already ending in /v1/traces."""
    base = base.rstrip("/")
    return base if base.endswith("/v1/traces") else f"{base}/v1/traces"


def instrument(app: Starlette, settings: Settings) -> Any:
    """Trace `app` when an endpoint is configured: its TracerProvider (flushed and shut down with
    the app), else None."""
    global _asyncpg_instrumented
    if not settings.otel_exporter_otlp_endpoint:
        return None
    # Health probes every second would drown the traces that matter; the instrumentation reads
    # its exclusions from the environment when it is imported.
    os.environ.setdefault("OTEL_PYTHON_STARLETTE_EXCLUDED_URLS", "healthz,readyz,metrics")
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
        from opentelemetry.instrumentation.starlette import StarletteInstrumentor
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        raise TracingUnavailable(
            f"OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed ({exc.name}): "
            "pip install 'boothgraph[otel]', or unset it"
        ) from exc
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: settings.otel_service_name}))
    exporter = OTLPSpanExporter(endpoint=traces_endpoint(settings.otel_exporter_otlp_endpoint))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    StarletteInstrumentor.instrument_app(app, tracer_provider=provider)
    if not _asyncpg_instrumented:  # it patches asyncpg's classes: once per process
        AsyncPGInstrumentor().instrument(tracer_provider=provider)
        _asyncpg_instrumented = True
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(provider)
    log.info("tracing to %s", traces_endpoint(settings.otel_exporter_otlp_endpoint))
    return provider
