using Aiops.Core;

namespace Aiops.Ingestion;

/// <summary>
/// An exemplar taken from an OTLP data point: a trace that illustrates the value, so an
/// <see cref="Anomaly"/> on <see cref="Series"/> can carry <see cref="TraceIdHex"/> in its
/// <see cref="Anomaly.ExemplarTraceIds"/>. For histograms the exemplar is attached to the P99
/// series (tail latency is what exemplars are usually sampled for); for sums and gauges to the
/// series of the point itself.
/// </summary>
/// <param name="Series">The series the exemplar illustrates.</param>
/// <param name="TimestampMs">Exemplar time (Unix ms), or the data point's time when the exemplar has none.</param>
/// <param name="Value">The measurement the exemplar recorded (converted like its series, e.g. seconds to ms).</param>
/// <param name="TraceId">Trace id (0 when absent).</param>
/// <param name="SpanId">Span id (0 when absent).</param>
public readonly record struct MetricExemplar(SeriesKey Series, long TimestampMs, double Value, UInt128 TraceId, ulong SpanId)
{
    /// <summary>Trace id as 32 lower-case hex digits (the form <see cref="Anomaly.ExemplarTraceIds"/> uses).</summary>
    public string TraceIdHex => TraceId.ToString("x32", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// Caller-owned output buffers for every decoder. Reuse one per consumer loop and call
/// <see cref="Clear"/> between records: lists keep their capacity, so steady-state decoding adds
/// no allocation for the containers. Good records and errors of one payload land side by side: a
/// bad data point never hides the good ones around it.
/// </summary>
public sealed class DecodeBatch
{
    /// <summary>Decoded metric points, in payload order.</summary>
    public List<MetricPoint> Metrics { get; } = new(1024);

    /// <summary>Decoded spans, in payload order.</summary>
    public List<SpanRecord> Spans { get; } = new(256);

    /// <summary>Exemplars found on metric data points.</summary>
    public List<MetricExemplar> Exemplars { get; } = new(16);

    /// <summary>Decode failures (kind, reason, position).</summary>
    public List<DecodeError> Errors { get; } = new(4);

    /// <summary>Data points (or spans) that were read but produced no output on purpose: the first point of a cumulative series only primes state.</summary>
    public int Primed { get; internal set; }

    /// <summary>Cumulative-series resets detected (start time changed or value decreased).</summary>
    public int Resets { get; internal set; }

    /// <summary>Empties all lists (keeping capacity) and zeroes the counters.</summary>
    public void Clear()
    {
        Metrics.Clear();
        Spans.Clear();
        Exemplars.Clear();
        Errors.Clear();
        Primed = 0;
        Resets = 0;
    }
}
