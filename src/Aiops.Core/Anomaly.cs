namespace Aiops.Core;

/// <summary>Which detector produced a verdict.</summary>
public enum DetectorKind : byte
{
    /// <summary>A single point far outside the residual distribution.</summary>
    Spike = 0,

    /// <summary>A regime change found by the martingale over residual p-values.</summary>
    ChangePoint = 1,

    /// <summary>A small persistent shift found by CUSUM / Page–Hinkley on standardised residuals.</summary>
    LevelShift = 2,

    /// <summary>A slow monotone drift (leak), found by a robust trend test.</summary>
    Trend = 3,

    /// <summary>A small but significant rise of an error rate at high traffic.</summary>
    RateIncrease = 4,

    /// <summary>A shift of a tail-latency quantile (P95/P99).</summary>
    TailLatency = 5,

    /// <summary>An SLO error budget burning faster than the alert's burn rate.</summary>
    BurnRate = 6,

    /// <summary>One replica of a service drifting from its peers.</summary>
    ReplicaDrift = 7,
}

/// <summary>Which way the observed value departed from the expected one.</summary>
public enum Direction : sbyte
{
    /// <summary>Below the expected value.</summary>
    Down = -1,

    /// <summary>Direction not meaningful (e.g. a variance change).</summary>
    None = 0,

    /// <summary>Above the expected value.</summary>
    Up = 1,
}

/// <summary>
/// A verdict with its evidence: what was expected (value and band), what was observed, how
/// unlikely it is (p-value, score in [0, 1]), which detector fired and since when. This is the
/// contract between the detection engine and the correlator.
/// </summary>
public sealed record Anomaly
{
    /// <summary>The series the verdict is about.</summary>
    public required SeriesKey Series { get; init; }

    /// <summary>What the series measures.</summary>
    public required MetricKind Kind { get; init; }

    /// <summary>The detector that fired.</summary>
    public required DetectorKind Detector { get; init; }

    /// <summary>Event time of the point that raised the verdict (Unix ms).</summary>
    public required long TimestampMs { get; init; }

    /// <summary>Event time the anomalous behaviour started, as far as the detector can tell (Unix ms).</summary>
    public required long SinceMs { get; init; }

    /// <summary>The observed value at <see cref="TimestampMs"/>.</summary>
    public required double Observed { get; init; }

    /// <summary>The baseline's expected value.</summary>
    public required double Expected { get; init; }

    /// <summary>Lower edge of the normal band.</summary>
    public required double Lower { get; init; }

    /// <summary>Upper edge of the normal band.</summary>
    public required double Upper { get; init; }

    /// <summary>Probability of a value at least this extreme under the baseline.</summary>
    public required double PValue { get; init; }

    /// <summary>Anomaly score in [0, 1].</summary>
    public required double Score { get; init; }

    /// <summary>Which way the series moved.</summary>
    public Direction Direction { get; init; }

    /// <summary>A human-readable sentence with detector-specific facts (e.g. time to exhaustion).</summary>
    public string? Detail { get; init; }

    /// <summary>Trace ids (lower-case hex) of spans that illustrate the anomaly, when spans gave them.</summary>
    public IReadOnlyList<string> ExemplarTraceIds { get; init; } = [];
}
