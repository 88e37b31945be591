using Aiops.Core;

namespace Aiops.Simulation;

/// <summary>
/// One simulated minute of telemetry: the spans that ended in it (sorted by end time) and the
/// resource metric points stamped in it. Batches come in event-time order, so a demo can pace
/// them (e.g. one simulated minute per 100 ms of wall time) and produce them as they come.
/// </summary>
/// <param name="StartMs">Batch start, Unix ms.</param>
/// <param name="EndMs">Batch end (exclusive), Unix ms.</param>
/// <param name="Spans">Spans whose end falls in the batch, by end time. The last batch also holds spans that end after it.</param>
/// <param name="Metrics">Resource metric points (CPU, memory per replica) stamped at <paramref name="StartMs"/>.</param>
public sealed record SimulationBatch(long StartMs, long EndMs, IReadOnlyList<SpanRecord> Spans, IReadOnlyList<MetricPoint> Metrics);

/// <summary>One record of the simulated stream: a span or a metric point, with its event time.</summary>
public readonly struct SimulationRecord
{
    private SimulationRecord(bool isSpan, SpanRecord span, MetricPoint metric, long timestampMs)
    {
        IsSpan = isSpan;
        Span = span;
        Metric = metric;
        TimestampMs = timestampMs;
    }

    /// <summary>True for a span, false for a metric point.</summary>
    public bool IsSpan { get; }

    /// <summary>The span (when <see cref="IsSpan"/>).</summary>
    public SpanRecord Span { get; }

    /// <summary>The metric point (when not <see cref="IsSpan"/>).</summary>
    public MetricPoint Metric { get; }

    /// <summary>Event time, Unix ms: a span's end, a point's timestamp.</summary>
    public long TimestampMs { get; }

    /// <summary>Wraps a span.</summary>
    public static SimulationRecord Of(in SpanRecord span) => new(true, span, default, span.EndUnixNanos / 1_000_000);

    /// <summary>Wraps a metric point.</summary>
    public static SimulationRecord Of(in MetricPoint point) => new(false, default, point, point.TimestampMs);
}
