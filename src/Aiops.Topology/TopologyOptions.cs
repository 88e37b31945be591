namespace Aiops.Topology;

/// <summary>
/// Settings of <see cref="SpanAggregator"/>: bucket width, how long unpaired spans wait for their
/// partner, when idle nodes and edges age out, and the caps that keep memory bounded when span
/// names or instance ids explode.
/// </summary>
public sealed class TopologyOptions
{
    /// <summary>
    /// Width of the event-time buckets the RED series are cut into (ms). 60 s is the default
    /// because detector baselines and SLO windows are minute-based; 10 s works for demos.
    /// </summary>
    public long BucketWidthMs { get; set; } = 60_000;

    /// <summary>
    /// How long (event time, ms) a client span waits for its server span, or a server span for its
    /// parent client span, before it is counted as unpaired. Buckets close only after this wait so
    /// a late pairing still lands in its bucket. 30 s covers exporter batching (5 s by default in
    /// the OpenTelemetry SDK) and Kafka partition skew with a wide margin.
    /// </summary>
    public long PairingWaitMs { get; set; } = 30_000;

    /// <summary>Nodes, edges and series with no traffic for this long (event time, ms) are removed: 15 min.</summary>
    public long IdleTimeoutMs { get; set; } = 15 * 60_000;

    /// <summary>
    /// Spans starting this far (ms) beyond the last <see cref="SpanAggregator.AdvanceTo(long)"/>
    /// time are rejected as clock errors: 10 min.
    /// </summary>
    public long MaxFutureSkewMs { get; set; } = 10 * 60_000;

    /// <summary>Distinct operations (span names) tracked per service; more go to <c>operation=_other</c>.</summary>
    public int MaxOperationsPerService { get; set; } = 200;

    /// <summary>Distinct instances tracked per service; more go to <c>instance=_other</c>.</summary>
    public int MaxInstancesPerService { get; set; } = 128;

    /// <summary>Closed buckets whose exemplar trace ids are kept per series (30 × 60 s = 30 min).</summary>
    public int ExemplarRetentionBuckets { get; set; } = 30;

    /// <summary>Relative accuracy α of the latency sketches: quantiles are within ±1% of the true value.</summary>
    public double SketchRelativeAccuracy { get; set; } = 0.01;

    /// <summary>
    /// Spans allowed to wait for a partner at once. 1,000,000 covers 30 s at ~33,000 unpaired
    /// spans/s (≈ 100 MB); beyond it a span is resolved at once (counted as overflow).
    /// </summary>
    public int MaxPendingSpans { get; set; } = 1_000_000;

    /// <summary>
    /// Requests a series' error ratio and latency quantiles should rest on: a bucket with fewer
    /// takes in the closed buckets just before it (up to <see cref="MaxWindowBuckets"/> in all),
    /// so a quiet service still gets a usable point every bucket. 20: at the simulator's night
    /// trough <c>email</c> and <c>payment</c> see ~3 requests a minute, whose per-minute median
    /// is noise and whose failures never reach 3 in one minute; over 5 minutes they see ~16. A
    /// series at or above it is computed from its own bucket, as before. 1 disables windows.
    /// </summary>
    public int MinWindowRequests { get; set; } = 20;

    /// <summary>
    /// Most buckets one point of a quiet series is computed over, its own included: 5 (5 min at
    /// 60-s buckets), so a change still shows fully within 5 points. A series needing it keeps
    /// MaxWindowBuckets − 1 extra sketches (≈ 0.3–1.4 KB each).
    /// </summary>
    public int MaxWindowBuckets { get; set; } = 5;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (BucketWidthMs <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(BucketWidthMs), BucketWidthMs, "The bucket width must be positive.");
        }

        if (PairingWaitMs < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(PairingWaitMs), PairingWaitMs, "The pairing wait must not be negative.");
        }

        if (IdleTimeoutMs < BucketWidthMs)
        {
            throw new ArgumentOutOfRangeException(nameof(IdleTimeoutMs), IdleTimeoutMs, "The idle timeout must be at least one bucket wide.");
        }

        if (MaxFutureSkewMs < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxFutureSkewMs), MaxFutureSkewMs, "The future skew must not be negative.");
        }

        if (MaxOperationsPerService < 1 || MaxInstancesPerService < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxOperationsPerService), "The per-service caps must be at least 1.");
        }

        if (MaxPendingSpans < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxPendingSpans), MaxPendingSpans, "The pending-span cap must not be negative.");
        }

        if (ExemplarRetentionBuckets < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ExemplarRetentionBuckets), ExemplarRetentionBuckets, "At least one bucket of exemplars must be kept.");
        }

        if (MinWindowRequests < 1 || MaxWindowBuckets < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MinWindowRequests), "MinWindowRequests and MaxWindowBuckets must be at least 1.");
        }

        if (!(SketchRelativeAccuracy > 0 && SketchRelativeAccuracy < 0.5))
        {
            throw new ArgumentOutOfRangeException(nameof(SketchRelativeAccuracy), SketchRelativeAccuracy, "The sketch accuracy must be in (0, 0.5).");
        }
    }
}
