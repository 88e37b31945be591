using Aiops.Core;

namespace Aiops.Ingestion.JsonLines;

/// <summary>The enum spellings of our JSON-lines format (TEAM.md), shared by reader and writer.</summary>
internal static class JsonLineNames
{
    public static string KindName(MetricKind kind) => kind switch
    {
        MetricKind.Latency => "latency",
        MetricKind.ErrorRate => "error_rate",
        MetricKind.Throughput => "throughput",
        MetricKind.Saturation => "saturation",
        _ => "generic",
    };

    public static bool TryParseKind(ReadOnlySpan<byte> s, out MetricKind kind)
    {
        kind = s switch
        {
            _ when s.SequenceEqual("generic"u8) => MetricKind.Generic,
            _ when s.SequenceEqual("latency"u8) => MetricKind.Latency,
            _ when s.SequenceEqual("error_rate"u8) => MetricKind.ErrorRate,
            _ when s.SequenceEqual("throughput"u8) => MetricKind.Throughput,
            _ when s.SequenceEqual("saturation"u8) => MetricKind.Saturation,
            _ => (MetricKind)255,
        };
        return kind != (MetricKind)255;
    }

    public static string SpanKindName(SpanKind kind) => kind switch
    {
        SpanKind.Internal => "internal",
        SpanKind.Server => "server",
        SpanKind.Client => "client",
        SpanKind.Producer => "producer",
        SpanKind.Consumer => "consumer",
        _ => "unspecified",
    };

    public static bool TryParseSpanKind(ReadOnlySpan<byte> s, out SpanKind kind)
    {
        kind = s switch
        {
            _ when s.SequenceEqual("internal"u8) => SpanKind.Internal,
            _ when s.SequenceEqual("server"u8) => SpanKind.Server,
            _ when s.SequenceEqual("client"u8) => SpanKind.Client,
            _ when s.SequenceEqual("producer"u8) => SpanKind.Producer,
            _ when s.SequenceEqual("consumer"u8) => SpanKind.Consumer,
            _ when s.SequenceEqual("unspecified"u8) => SpanKind.Unspecified,
            _ => (SpanKind)255,
        };
        return kind != (SpanKind)255;
    }

    public static string StatusName(SpanStatus status) => status switch
    {
        SpanStatus.Ok => "ok",
        SpanStatus.Error => "error",
        _ => "unset",
    };

    public static bool TryParseStatus(ReadOnlySpan<byte> s, out SpanStatus status)
    {
        status = s switch
        {
            _ when s.SequenceEqual("unset"u8) => SpanStatus.Unset,
            _ when s.SequenceEqual("ok"u8) => SpanStatus.Ok,
            _ when s.SequenceEqual("error"u8) => SpanStatus.Error,
            _ => (SpanStatus)255,
        };
        return status != (SpanStatus)255;
    }
}
