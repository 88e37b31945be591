namespace Aiops.Ingestion;

/// <summary>
/// Limits that keep one bad producer from hurting the worker. Defaults are chosen for the
/// OpenTelemetry Collector's Kafka exporter: its records are at most a few MiB and carry tens of
/// attributes per point.
/// </summary>
public sealed class DecodeOptions
{
    /// <summary>Shared default instance; treat as read-only.</summary>
    public static DecodeOptions Default { get; } = new();

    /// <summary>
    /// Largest record accepted, in bytes. 16 MiB: above Kafka's default 1 MiB message limit by a
    /// wide margin (brokers are often raised to 8–10 MiB for OTLP batches) yet small enough that a
    /// corrupt length prefix cannot make the decoder walk gigabytes.
    /// </summary>
    public int MaxRecordBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>
    /// Most labels (data-point attributes) per metric point: 32. Typical HTTP server metrics carry
    /// 5–8; a point with more is almost always a label explosion (user ids, URLs with ids).
    /// </summary>
    public int MaxLabelsPerPoint { get; init; } = 32;

    /// <summary>Longest label value, in UTF-8 bytes: 256 (a route template or pod name fits; a raw URL with a query string usually does not).</summary>
    public int MaxLabelValueLength { get; init; } = 256;

    /// <summary>
    /// How far ahead of the newest accepted event time a point may be: 1 hour. Event time comes from
    /// the data, so "the future" is measured against the data's own watermark, not the wall clock.
    /// </summary>
    public long MaxAheadOfWatermarkMs { get; init; } = 60 * 60 * 1000L;

    /// <summary>How far behind the newest accepted event time a point may be: 7 days (a week of replayed backlog).</summary>
    public long MaxBehindWatermarkMs { get; init; } = 7 * 24 * 60 * 60 * 1000L;

    /// <summary>
    /// Absolute sanity window for the first points (before a watermark exists): 2000-01-01 ..
    /// 2100-01-01 UTC. Catches zero, seconds-instead-of-milliseconds and overflowed timestamps.
    /// </summary>
    public long MinTimestampMs { get; init; } = 946_684_800_000L;

    /// <summary>Upper end of the absolute sanity window (2100-01-01 UTC).</summary>
    public long MaxTimestampMs { get; init; } = 4_102_444_800_000L;

    /// <summary>
    /// Most cumulative series (sums and histograms) whose previous value the metrics decoder keeps:
    /// 200,000 series at roughly 100 B each is about 20 MB. Points of new series beyond it are rejected
    /// with <see cref="DecodeErrorKind.SeriesLimitExceeded"/> instead of growing without bound.
    /// </summary>
    public int MaxCumulativeSeries { get; init; } = 200_000;

    /// <summary>Capacity of the string intern cache (service, metric and label strings): 16,384 entries.</summary>
    public int InternCacheCapacity { get; init; } = 16_384;
}
