using Aiops.Core;

namespace Aiops.Ingestion.Otlp;

/// <summary>Which OTLP metric data type a <see cref="OtlpMetric"/> is written as.</summary>
public enum OtlpMetricType : byte
{
    /// <summary><c>Gauge</c> of number data points.</summary>
    Gauge = 0,

    /// <summary><c>Sum</c> of number data points, with temporality and monotonicity.</summary>
    Sum = 1,

    /// <summary><c>Histogram</c> with explicit bucket bounds.</summary>
    Histogram = 2,

    /// <summary><c>ExponentialHistogram</c> (base 2^(2^-scale) buckets).</summary>
    ExponentialHistogram = 3,
}

/// <summary>OTLP <c>AggregationTemporality</c>.</summary>
public enum OtlpTemporality : byte
{
    /// <summary>Each point covers (start, time] only.</summary>
    Delta = 1,

    /// <summary>Each point covers (start, time] from a fixed start.</summary>
    Cumulative = 2,
}

/// <summary>An exemplar to write on a data point.</summary>
/// <param name="TimeUnixNano">When the measurement was taken.</param>
/// <param name="Value">The measurement.</param>
/// <param name="TraceId">Trace of the measurement.</param>
/// <param name="SpanId">Span of the measurement.</param>
public readonly record struct OtlpExemplar(long TimeUnixNano, double Value, UInt128 TraceId, ulong SpanId);

/// <summary>One data point to write (fields used depend on <see cref="OtlpMetric.Type"/>).</summary>
public sealed class OtlpDataPoint
{
    /// <summary>Data-point attributes (become labels).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Attributes { get; init; } = [];

    /// <summary>Start of the aggregation interval (0 = unknown).</summary>
    public long StartTimeUnixNano { get; init; }

    /// <summary>End of the aggregation interval / observation time.</summary>
    public long TimeUnixNano { get; init; }

    /// <summary>Gauge or sum value (written as <c>as_double</c>).</summary>
    public double Value { get; init; }

    /// <summary>For error-ratio gauges: the request count, written as attribute <c>aiops.total</c> so it survives OTLP.</summary>
    public double Total { get; init; }

    /// <summary>Histogram population count.</summary>
    public ulong Count { get; init; }

    /// <summary>Histogram sum.</summary>
    public double Sum { get; init; }

    /// <summary>Histogram minimum, if known.</summary>
    public double? Min { get; init; }

    /// <summary>Histogram maximum, if known.</summary>
    public double? Max { get; init; }

    /// <summary>Explicit bucket bounds (n).</summary>
    public IReadOnlyList<double> ExplicitBounds { get; init; } = [];

    /// <summary>Explicit bucket counts (n + 1).</summary>
    public IReadOnlyList<ulong> BucketCounts { get; init; } = [];

    /// <summary>Exponential histogram scale.</summary>
    public int Scale { get; init; }

    /// <summary>Exponential histogram zero-bucket count.</summary>
    public ulong ZeroCount { get; init; }

    /// <summary>Index of the first positive bucket.</summary>
    public int PositiveOffset { get; init; }

    /// <summary>Positive bucket counts from <see cref="PositiveOffset"/>.</summary>
    public IReadOnlyList<ulong> PositiveBucketCounts { get; init; } = [];

    /// <summary>Index of the first negative bucket.</summary>
    public int NegativeOffset { get; init; }

    /// <summary>Negative bucket counts from <see cref="NegativeOffset"/>.</summary>
    public IReadOnlyList<ulong> NegativeBucketCounts { get; init; } = [];

    /// <summary>Exemplars of the point.</summary>
    public IReadOnlyList<OtlpExemplar> Exemplars { get; init; } = [];
}

/// <summary>One metric to write.</summary>
public sealed class OtlpMetric
{
    /// <summary>Metric name.</summary>
    public required string Name { get; init; }

    /// <summary>UCUM unit (e.g. <c>ms</c>, <c>s</c>, <c>1</c>).</summary>
    public string Unit { get; init; } = "";

    /// <summary>When set, written as metric metadata <c>aiops.kind</c> so our decoder restores the kind exactly.</summary>
    public MetricKind? Kind { get; init; }

    /// <summary>Data type.</summary>
    public OtlpMetricType Type { get; init; }

    /// <summary>Temporality (sums and histograms).</summary>
    public OtlpTemporality Temporality { get; init; } = OtlpTemporality.Cumulative;

    /// <summary>Monotonic flag (sums).</summary>
    public bool IsMonotonic { get; init; }

    /// <summary>Data points.</summary>
    public IReadOnlyList<OtlpDataPoint> Points { get; init; } = [];
}

/// <summary>The metrics of one resource (one service instance).</summary>
public sealed class OtlpResourceMetrics
{
    /// <summary>Resource attribute <c>service.name</c>.</summary>
    public required string ServiceName { get; init; }

    /// <summary>Other resource attributes (e.g. <c>service.instance.id</c>).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ResourceAttributes { get; init; } = [];

    /// <summary>Metrics of the resource.</summary>
    public IReadOnlyList<OtlpMetric> Metrics { get; init; } = [];
}
