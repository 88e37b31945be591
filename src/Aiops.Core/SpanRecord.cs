namespace Aiops.Core;

/// <summary>Span kind, numbered as OTLP's <c>Span.SpanKind</c>.</summary>
public enum SpanKind : byte
{
    /// <summary>Not specified by the producer.</summary>
    Unspecified = 0,

    /// <summary>Internal operation.</summary>
    Internal = 1,

    /// <summary>Handles a synchronous request from a remote caller.</summary>
    Server = 2,

    /// <summary>Makes a synchronous request to a remote callee.</summary>
    Client = 3,

    /// <summary>Sends a message to a broker.</summary>
    Producer = 4,

    /// <summary>Receives a message from a broker.</summary>
    Consumer = 5,
}

/// <summary>Span status code, numbered as OTLP's <c>Status.StatusCode</c>.</summary>
public enum SpanStatus : byte
{
    /// <summary>Not set by the producer.</summary>
    Unset = 0,

    /// <summary>Explicitly successful.</summary>
    Ok = 1,

    /// <summary>Failed.</summary>
    Error = 2,
}

/// <summary>One attribute of a span, value rendered as text.</summary>
public readonly record struct SpanAttribute(string Key, string Value);

/// <summary>
/// One span, decoded from any input format (OTLP, Jaeger, Zipkin, JSON lines). Times are Unix
/// nanoseconds (OTLP's native unit). Ids are the binary ids of W3C trace context: a 16-byte trace
/// id and 8-byte span ids, zero meaning absent (a root span has <see cref="ParentSpanId"/> 0).
/// The attributes that identify a peer are lifted into properties because the service graph
/// reads them for every client span; the rest stay in <see cref="Attributes"/>.
/// </summary>
public readonly record struct SpanRecord
{
    /// <summary>Trace id (16 bytes, big-endian as in W3C trace context).</summary>
    public required UInt128 TraceId { get; init; }

    /// <summary>Span id.</summary>
    public required ulong SpanId { get; init; }

    /// <summary>Parent span id; 0 for a root span.</summary>
    public ulong ParentSpanId { get; init; }

    /// <summary>Resource attribute <c>service.name</c>.</summary>
    public required string Service { get; init; }

    /// <summary>Resource attribute <c>service.instance.id</c> (the replica), if present.</summary>
    public string? ServiceInstance { get; init; }

    /// <summary>Resource attribute <c>service.version</c>, if present.</summary>
    public string? ServiceVersion { get; init; }

    /// <summary>Span name (the operation).</summary>
    public required string Name { get; init; }

    /// <summary>Span kind.</summary>
    public SpanKind Kind { get; init; }

    /// <summary>Start time, Unix nanoseconds.</summary>
    public required long StartUnixNanos { get; init; }

    /// <summary>End time, Unix nanoseconds.</summary>
    public required long EndUnixNanos { get; init; }

    /// <summary>Status code.</summary>
    public SpanStatus Status { get; init; }

    /// <summary>Attribute <c>peer.service</c>: the logical name of the remote service.</summary>
    public string? PeerService { get; init; }

    /// <summary>Attribute <c>server.address</c> (or the older <c>net.peer.name</c>).</summary>
    public string? ServerAddress { get; init; }

    /// <summary>Attribute <c>db.system</c> (e.g. <c>postgresql</c>) on database client spans.</summary>
    public string? DbSystem { get; init; }

    /// <summary>Attribute <c>messaging.system</c> (e.g. <c>kafka</c>) on producer/consumer spans.</summary>
    public string? MessagingSystem { get; init; }

    /// <summary>Other attributes, kept for exemplars, GenAI signals and redaction; may be empty.</summary>
    public IReadOnlyList<SpanAttribute> Attributes
    {
        get => _attributes ?? [];
        init => _attributes = value;
    }

    private readonly IReadOnlyList<SpanAttribute>? _attributes;

    /// <summary>Duration in milliseconds.</summary>
    public double DurationMs => (EndUnixNanos - StartUnixNanos) / 1e6;

    /// <summary>Trace id as 32 lower-case hex digits.</summary>
    public string TraceIdHex => TraceId.ToString("x32", System.Globalization.CultureInfo.InvariantCulture);
}
