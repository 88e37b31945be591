namespace Aiops.Pipeline;

/// <summary>
/// The knobs of the <see cref="EventTimePipeline"/>. Defaults suit the simulator and a typical
/// service mesh: one-minute buckets, as the SRE dashboards the hints refer to use.
/// </summary>
public sealed class PipelineOptions
{
    /// <summary>
    /// Width of the event-time buckets RED series are computed over. 60 s: at a few hundred spans
    /// per minute per service a bucket holds enough requests for a stable P95 (≥ 20 per service).
    /// </summary>
    public long BucketMs { get; set; } = 60_000;

    /// <summary>
    /// How long after a bucket's end spans for it are still accepted before it is closed and its
    /// RED points reach the detectors. 30 s covers the Collector's batching delay (default 200 ms
    /// batch timeout, seconds of exporter retry) without delaying verdicts by more than half a bucket.
    /// </summary>
    public long AllowedLatenessMs { get; set; } = 30_000;

    /// <summary>Feed per-edge (caller → callee) RED series to the detectors, not only per-service ones.</summary>
    public bool EdgeSeries { get; set; } = true;

    /// <summary>Feed per-replica latency series so one bad replica can be told from its peers.</summary>
    public bool ReplicaSeries { get; set; } = true;

    /// <summary>
    /// Minimum number of requests in a bucket for its latency quantile to be fed to the detectors;
    /// below it the quantile is noise (a P95 of 5 requests is their maximum).
    /// </summary>
    public int MinRequestsPerBucket { get; set; } = 5;

    /// <summary>Throws when a setting is out of range, naming the setting.</summary>
    public void Validate()
    {
        if (BucketMs <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(BucketMs), BucketMs, "BucketMs must be positive.");
        }

        if (AllowedLatenessMs < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(AllowedLatenessMs), AllowedLatenessMs, "AllowedLatenessMs must not be negative.");
        }

        if (MinRequestsPerBucket < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MinRequestsPerBucket), MinRequestsPerBucket, "MinRequestsPerBucket must be at least 1.");
        }
    }
}
