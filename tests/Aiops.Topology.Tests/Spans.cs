using Aiops.Core;

namespace Aiops.Topology.Tests;

/// <summary>Builds spans for tests: times in ms from a fixed epoch (2023-11-14T22:13:20Z).</summary>
internal static class Spans
{
    public const long Epoch = 1_700_000_000_000;

    public static SpanRecord Make(
        string service,
        SpanKind kind,
        UInt128 trace,
        ulong spanId,
        ulong parent,
        long startMs,
        double durationMs,
        bool error = false,
        string name = "op",
        string? instance = null,
        string? version = null,
        string? peer = null,
        string? address = null,
        string? db = null,
        string? messaging = null) => new()
        {
            TraceId = trace,
            SpanId = spanId,
            ParentSpanId = parent,
            Service = service,
            ServiceInstance = instance,
            ServiceVersion = version,
            Name = name,
            Kind = kind,
            StartUnixNanos = startMs * 1_000_000,
            EndUnixNanos = (startMs * 1_000_000) + (long)(durationMs * 1_000_000),
            Status = error ? SpanStatus.Error : SpanStatus.Ok,
            PeerService = peer,
            ServerAddress = address,
            DbSystem = db,
            MessagingSystem = messaging,
        };
}
