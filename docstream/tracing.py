"""OpenTelemetry traces, when the ``otel`` extra is installed and the standard ``OTEL_*``
variables ask for them.

Why: metrics say *that* commits are slow or loads take long; a trace says *which* request, socket
or document, and what it waited on, across nodes and whatever sits in front of them (a proxy that
sends ``traceparent`` joins its trace to ours). Why optional: most installations have no
collector, and the SDK and its exporter are dependencies they would carry for nothing. Without
the extra, or with tracing off, nothing of OpenTelemetry is imported.

**When tracing is on.** The SDK's own variables decide; this module only adds one rule for
"on", so that an installation that merely has the extra does not start sending spans to
``localhost:4318``:

- ``OTEL_SDK_DISABLED=true``: off, whatever else is set;
- otherwise on when ``OTEL_TRACES_EXPORTER`` names an exporter (``otlp``, ``console``, or one an
  installed package registers), or when ``OTEL_EXPORTER_OTLP_ENDPOINT`` or
  ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is set (then the exporter is ``otlp``);
- ``OTEL_TRACES_EXPORTER=none``: off.

Everything else is the SDK's business, read from the environment by the SDK itself: the
service's resource (``OTEL_SERVICE_NAME``, default ``docstream`` here instead of
``unknown_service``; ``OTEL_RESOURCE_ATTRIBUTES``), the exporter's endpoint, headers, timeout and
compression (``OTEL_EXPORTER_OTLP_*``), the sampler (``OTEL_TRACES_SAMPLER``), the batching
(``OTEL_BSP_*``) and the propagators (``OTEL_PROPAGATORS``, W3C ``traceparent`` by default). The
OTLP exporter speaks HTTP/protobuf (the extra's); ``OTEL_EXPORTER_OTLP_PROTOCOL=grpc`` works
when ``opentelemetry-exporter-otlp-proto-grpc`` is installed too.

**Once per process, in the process that serves.** :func:`setup` runs from ``create_app``: in
each of granian's workers, never in the parent before the workers start (the exporter's
background thread and its connections would not survive the fork). A second call does nothing.

**Free when off.** The helpers return :data:`OFF`, one shared object that is both the context
manager and the span (its methods do nothing): no allocation, no import, one function call and a
global read. The commit path calls them once per commit group, never per edit.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Link, Tracer

log = logging.getLogger(__name__)

#: ``service.name`` when neither ``OTEL_SERVICE_NAME`` nor ``OTEL_RESOURCE_ATTRIBUTES`` names one.
SERVICE_NAME = "docstream"
#: The instrumentation scope of every span this package makes.
SCOPE = "docstream"

Kind = Literal["server", "internal"]


class SpanLike(Protocol):
    """What the call sites use of a span: an OpenTelemetry span, or :data:`OFF`."""

    def set_attribute(self, key: str, value: Any) -> None: ...

    def is_recording(self) -> bool: ...


class _Off:
    """The span and context manager of tracing that is off: every method does nothing."""

    __slots__ = ()

    def __enter__(self) -> _Off:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def set_attribute(self, key: str, value: Any) -> None:
        return None

    def is_recording(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "tracing.OFF"


#: Returned by every helper while tracing is off (and by :func:`span` then).
OFF: Final = _Off()


class _State:
    """This process's tracing: configured once; the tracer is None while off."""

    configured = False
    tracer: Tracer | None = None
    provider: TracerProvider | None = None
    owned = False  # the provider is ours (we shut it down)


_state = _State()


# --- on or off -------------------------------------------------------------------------------


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def exporter_names(environ: Mapping[str, str]) -> list[str]:
    """The exporters the environment asks for (empty: tracing stays off), by the rule in the
    module docstring."""
    if _truthy(environ.get("OTEL_SDK_DISABLED")):
        return []
    named = [n.strip().lower() for n in environ.get("OTEL_TRACES_EXPORTER", "").split(",")]
    named = [n for n in named if n]
    if named:
        return [n for n in named if n != "none"]
    endpoints = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    return ["otlp"] if any(environ.get(v, "").strip() for v in endpoints) else []


def enabled() -> bool:
    """Whether spans are being recorded in this process."""
    return _state.tracer is not None


def setup() -> bool:
    """Start tracing in this process if its environment asks for it (see the module docstring);
    True when it is on. Only the first call of a process decides; later calls return the answer.

    Without the ``otel`` extra, an environment that asks for traces gets one warning and no
    traces; DocStream runs as before.
    """
    if _state.configured:
        return enabled()
    _state.configured = True
    names = exporter_names(os.environ)
    if not names:
        return False
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import SERVICE_NAME as NAME_KEY
        from opentelemetry.sdk.resources import SERVICE_VERSION, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        log.warning(
            "OTEL_* asks for traces, but OpenTelemetry is not installed (%s): no traces; "
            "install docstream[otel]",
            exc,
        )
        return False
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        # Someone configured the SDK before us (``opentelemetry-instrument``, an application
        # that embeds DocStream): record with theirs.
        _use(current, owned=False)
        log.info("tracing on, with the OpenTelemetry SDK set up before DocStream started")
        return True
    exporters = [e for e in (_exporter(name, os.environ) for name in names) if e is not None]
    if not exporters:
        return False
    from docstream import __version__

    resource = Resource.create()  # OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
    defaults: dict[str, str] = {}
    if str(resource.attributes.get(NAME_KEY, "")).startswith("unknown_service"):
        defaults[NAME_KEY] = SERVICE_NAME
    if SERVICE_VERSION not in resource.attributes:
        defaults[SERVICE_VERSION] = __version__
    provider = TracerProvider(resource=resource.merge(Resource(defaults)))
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _use(provider, owned=True)
    log.info("tracing on: spans to %s", ", ".join(type(e).__name__ for e in exporters))
    return True


def _exporter(name: str, environ: Mapping[str, str]) -> SpanExporter | None:
    """The exporter called ``name``: ``otlp`` is ours (HTTP/protobuf, or gRPC when asked for
    and installed); any other name is looked up among the exporters installed packages register
    (``console`` is the SDK's)."""
    entry = name
    if name == "otlp":
        protocol = (
            environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
            or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
            or "http/protobuf"
        ).strip()
        entry = "otlp_proto_grpc" if protocol == "grpc" else "otlp_proto_http"
        if protocol not in ("grpc", "http/protobuf"):
            log.warning("OTLP protocol %r is not supported; sending http/protobuf", protocol)
    from importlib.metadata import entry_points

    found = list(entry_points(group="opentelemetry_traces_exporter", name=entry))
    if not found:
        log.warning("no trace exporter %r is installed; %r skipped", entry, name)
        return None
    try:
        exporter: SpanExporter = found[0].load()()
    except Exception:
        log.exception("the trace exporter %r failed to start", entry)
        return None
    return exporter


def install(provider: TracerProvider) -> None:
    """Record spans with ``provider`` from now on, whatever the environment says (tests with the
    SDK's in-memory exporter; an application that embeds DocStream with its own SDK setup). The
    provider stays the caller's: :func:`reset` does not shut it down."""
    _state.configured = True
    _use(provider, owned=False)


def _use(provider: TracerProvider, *, owned: bool) -> None:
    from docstream import __version__

    _state.provider = provider
    _state.owned = owned
    _state.tracer = provider.get_tracer(SCOPE, __version__)


def flush() -> None:
    """Send the spans still waiting in the batch (at shutdown: the last requests' spans)."""
    provider = _state.provider
    if provider is not None:
        provider.force_flush()


def reset() -> None:
    """Forget this process's tracing (tests): the next :func:`setup` decides again. A provider
    set up by :func:`setup` is shut down (its spans sent); the global provider OpenTelemetry
    allows to be set once stays set."""
    provider = _state.provider
    if provider is not None and _state.owned:
        provider.shutdown()
    _state.configured = False
    _state.tracer = None
    _state.provider = None
    _state.owned = False


# --- spans -----------------------------------------------------------------------------------


def span(
    name: str,
    attributes: Mapping[str, Any] | None = None,
    *,
    kind: Kind = "internal",
    links: Iterable[Link] = (),
    parent_headers: Mapping[str, str] | None = None,
) -> AbstractContextManager[SpanLike]:
    """A span made current for the ``with`` block, or :data:`OFF` while tracing is off.

    ``parent_headers``: the incoming request's headers (lower-case names); a ``traceparent`` in
    them makes the span its child. An exception leaving the block is recorded and sets the
    span's status to error.

    Call sites on hot paths check :func:`enabled` before building ``attributes``.
    """
    tracer = _state.tracer
    if tracer is None:
        return OFF
    from opentelemetry import propagate
    from opentelemetry.trace import SpanKind

    context = propagate.extract(parent_headers) if parent_headers is not None else None
    return tracer.start_as_current_span(
        name,
        context=context,
        kind=SpanKind.SERVER if kind == "server" else SpanKind.INTERNAL,
        attributes=dict(attributes) if attributes else None,
        links=list(links),
    )


def fail(span: SpanLike, description: str) -> None:
    """Mark ``span`` as failed (an error the code handled, so no exception leaves the block)."""
    if not span.is_recording():
        return
    from opentelemetry.trace import Span, Status, StatusCode

    if isinstance(span, Span):
        span.set_status(Status(StatusCode.ERROR, description))


def rename(span: SpanLike, name: str) -> None:
    """Give ``span`` its final name (an HTTP span learns its route only after routing)."""
    if not span.is_recording():
        return
    from opentelemetry.trace import Span

    if isinstance(span, Span):
        span.update_name(name)


def current_link() -> object | None:
    """The current span's context, to link to later from work done elsewhere (a commit links
    to the sockets whose edits it stores); None while off or outside a span."""
    if _state.tracer is None:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return context if context.is_valid else None


def links(contexts: Iterable[object | None]) -> list[Link]:
    """Links to the distinct span contexts among ``contexts`` (from :func:`current_link`)."""
    from opentelemetry.trace import Link, SpanContext

    seen: dict[tuple[int, int], Link] = {}
    for context in contexts:
        if isinstance(context, SpanContext):
            seen.setdefault((context.trace_id, context.span_id), Link(context))
    return list(seen.values())


def detach() -> None:
    """Make the running task start its spans as new traces: a task that outlives the request
    that started it (a document's Room) must not put its work inside that request's trace."""
    if _state.tracer is None:
        return
    from opentelemetry import context

    context.attach(context.Context())


def log_ids() -> tuple[str, str] | None:
    """The trace and span id of the current span in hex (for log lines), or None."""
    if _state.tracer is None:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")
