using System.Globalization;
using Aiops.Core;
using Aiops.Ingestion.Zipkin;

namespace Aiops.Ingestion.Jaeger;

/// <summary>Jaeger's <c>ValueType</c> enum (jaeger-idl <c>api_v2/model.proto</c>).</summary>
internal enum JaegerValueType
{
    String = 0,
    Bool = 1,
    Int64 = 2,
    Float64 = 3,
    Binary = 4,
}

/// <summary>
/// What the protobuf and the JSON Jaeger decoders read from one <c>jaeger.api_v2.Span</c>,
/// turned into a <see cref="SpanRecord"/> by the same rules: the parent is the span of the first
/// <c>CHILD_OF</c> reference within the same trace (else the first <c>FOLLOWS_FROM</c> one, as
/// Jaeger's own model reads it); the service is <c>process.service_name</c>; the replica is the
/// process tag <c>service.instance.id</c> (what the OpenTelemetry → Jaeger mapping writes), else
/// <c>hostname</c>; the version is <c>service.version</c>; the kind is the <c>span.kind</c> tag
/// (absent → <see cref="SpanKind.Internal"/>, Jaeger's default for spans without it).
/// </summary>
internal sealed class JaegerSpanParts
{
    private const string UnknownService = "unknown_service";

    public ForeignSpanFields Fields { get; } = new();

    public UInt128 TraceId { get; set; }

    public ulong SpanId { get; set; }

    public bool TraceIdValid { get; set; } = true;

    public bool SpanIdValid { get; set; } = true;

    public ulong ChildOfParent { get; set; }

    public ulong FollowsFromParent { get; set; }

    public string Name { get; set; } = "";

    public string? Service { get; set; }

    public long StartNanos { get; set; } = -1;

    public long DurationNanos { get; set; }

    public string? Error { get; set; }

    public void Reset()
    {
        Fields.Reset();
        TraceId = 0;
        SpanId = 0;
        TraceIdValid = SpanIdValid = true;
        ChildOfParent = FollowsFromParent = 0;
        Name = "";
        Service = null;
        StartNanos = -1;
        DurationNanos = 0;
        Error = null;
    }

    /// <summary>A reference to another span; only ones within this span's trace can be its parent.</summary>
    public void AddReference(UInt128 traceId, ulong spanId, int refType, UInt128 ownTraceId)
    {
        if (spanId == 0 || (traceId != 0 && traceId != ownTraceId))
        {
            return;
        }

        if (refType == 0 && ChildOfParent == 0)
        {
            ChildOfParent = spanId;
        }
        else if (refType == 1 && FollowsFromParent == 0)
        {
            FollowsFromParent = spanId;
        }
    }

    /// <summary>A process tag: only the replica and version identities are kept.</summary>
    public void AddProcessTag(string key, string value)
    {
        switch (key)
        {
            case SpanAttributeNames.ServiceInstanceId:
                Fields.Instance = value;
                break;
            case "hostname":
                Fields.Instance ??= value;
                break;
            case SpanAttributeNames.ServiceVersion:
                Fields.Version = value;
                break;
            default:
                break;
        }
    }

    /// <summary>Renders a tag value as text: strings as-is, booleans <c>true</c>/<c>false</c>, numbers invariant, bytes base64.</summary>
    public static string ValueText(JaegerValueType type, string? s, bool b, long i, double d, byte[]? binary) => type switch
    {
        JaegerValueType.Bool => b ? "true" : "false",
        JaegerValueType.Int64 => i.ToString(CultureInfo.InvariantCulture),
        JaegerValueType.Float64 => d.ToString("R", CultureInfo.InvariantCulture),
        JaegerValueType.Binary => binary is null ? "" : Convert.ToBase64String(binary),
        _ => s ?? "",
    };

    /// <summary>Validates and appends the span, or appends the error that explains why not.</summary>
    public void Emit(DecodeBatch batch, TimestampGuard timestamps, string format, long at)
    {
        string service = string.IsNullOrEmpty(Service) ? UnknownService : Service;
        string where = $"Jaeger {format} span of service '{service}'";
        if (Error is not null)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.InvalidValue, $"{where}: {Error}", at));
            return;
        }

        if (!TraceIdValid || !SpanIdValid || TraceId == 0 || SpanId == 0)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.InvalidId, $"{where}: trace_id must be 16 bytes and span_id 8 bytes, both present and non-zero", at));
            return;
        }

        if (!ForeignSpanFields.TryParseKind(Fields.KindTag, SpanKind.Internal, out SpanKind kind))
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.UnknownEnumValue, $"{where}: span.kind '{Fields.KindTag}' is not client, server, producer, consumer or internal", at));
            return;
        }

        if (StartNanos <= 0)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.MissingField, $"{where}: start_time is missing", at));
            return;
        }

        if (DurationNanos < 0 || StartNanos > long.MaxValue - DurationNanos)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.InvalidValue, $"{where}: duration {DurationNanos} ns is negative or overflows", at));
            return;
        }

        string? tsError = timestamps.Check(StartNanos / 1_000_000);
        if (tsError is not null)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.TimestampOutOfRange, $"{where}: {tsError}", at));
            return;
        }

        batch.Spans.Add(new SpanRecord
        {
            TraceId = TraceId,
            SpanId = SpanId,
            ParentSpanId = ChildOfParent != 0 ? ChildOfParent : FollowsFromParent,
            Service = service,
            ServiceInstance = Fields.Instance,
            ServiceVersion = Fields.Version,
            Name = Name,
            Kind = kind,
            StartUnixNanos = StartNanos,
            EndUnixNanos = StartNanos + DurationNanos,
            Status = Fields.Status(kind),
            PeerService = Fields.PeerService,
            ServerAddress = Fields.ServerAddress ?? Fields.NetPeerName,
            DbSystem = Fields.DbSystem,
            MessagingSystem = Fields.MessagingSystem,
            Attributes = Fields.AttributesSnapshot(),
        });
    }
}
