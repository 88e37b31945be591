namespace Aiops.Core;

/// <summary>
/// What a series measures. It selects the detector profile (defaults under <c>models/profiles</c>)
/// and how a verdict is read: a latency rising is bad, a throughput falling may be.
/// </summary>
public enum MetricKind : byte
{
    /// <summary>Anything without a better description; two-sided detection.</summary>
    Generic = 0,

    /// <summary>A duration (milliseconds), usually a quantile such as P95/P99.</summary>
    Latency = 1,

    /// <summary>A fraction in [0, 1] of failed requests; <see cref="MetricPoint.Total"/> carries the request count.</summary>
    ErrorRate = 2,

    /// <summary>Events per second (requests, messages, bytes).</summary>
    Throughput = 3,

    /// <summary>Use of a finite resource (CPU, memory, disk, connections, queue depth).</summary>
    Saturation = 4,
}
