namespace Aiops.Detection;

/// <summary>Which detectors fired on a point (several may fire at once).</summary>
[Flags]
public enum DetectorFlags : ushort
{
    /// <summary>Nothing fired.</summary>
    None = 0,

    /// <summary>The residual's p-value is below the spike threshold.</summary>
    Spike = 1 << 0,

    /// <summary>The power martingale over p-values crossed its threshold.</summary>
    ChangePoint = 1 << 1,

    /// <summary>The CUSUM on standardised deviations from the reference level crossed h.</summary>
    LevelShift = 1 << 2,

    /// <summary>Mann–Kendall found a significant monotone trend with a material Theil–Sen slope.</summary>
    Trend = 1 << 3,

    /// <summary>The Bernoulli CUSUM found the error rate above its baseline.</summary>
    RateIncrease = 1 << 4,

    /// <summary>The relative CUSUM found a latency quantile shifted by more than the profile's minimum.</summary>
    TailLatency = 1 << 5,
}

/// <summary>Why a point was not used.</summary>
public enum PointStatus : byte
{
    /// <summary>Used to score and to learn.</summary>
    Accepted = 0,

    /// <summary>Value or total was NaN or infinite, or the total negative: counted and ignored.</summary>
    NonFinite = 1,

    /// <summary>Event time earlier than the last accepted point: counted and ignored (late data cannot rewrite a streaming baseline).</summary>
    OutOfOrder = 2,

    /// <summary>Same event time as the last accepted point: counted and ignored (the first value wins).</summary>
    Duplicate = 3,

    /// <summary>An error-rate value outside [0, 1]: counted and ignored.</summary>
    InvalidRate = 4,

    /// <summary>A new series beyond the registry's cap (label explosion): counted and ignored.</summary>
    SeriesLimit = 5,
}

/// <summary>
/// The per-point output of <see cref="SeriesDetector.Update(long, double, double)"/>: the baseline's
/// expected value and band, the residual's p-value, a combined score in [0, 1] and which detectors
/// fired. A value type so the hot path returns it without allocating.
/// </summary>
public readonly record struct DetectionResult
{
    /// <summary>Event time of the point (Unix ms).</summary>
    public long TimestampMs { get; init; }

    /// <summary>The observed value.</summary>
    public double Observed { get; init; }

    /// <summary>Baseline expectation (seasonal profile + SSA forecast).</summary>
    public double Expected { get; init; }

    /// <summary>Lower edge of the normal band.</summary>
    public double Lower { get; init; }

    /// <summary>Upper edge of the normal band.</summary>
    public double Upper { get; init; }

    /// <summary>Two-sided p-value of the residual against recent residuals (1 while warming up).</summary>
    public double PValue { get; init; }

    /// <summary>
    /// Per-point alert score in [0, 1] (the anomaly_score NAB reads): the detectors' evidence passed
    /// through the anomaly-likelihood stage, so one threshold works across series, and held at 0 for
    /// a while after a detection. Verdicts (<see cref="Aiops.Core.Anomaly.Score"/>) carry the raw
    /// evidence score e/(1+e) instead, 0.5 meaning a detector sits exactly at its threshold.
    /// </summary>
    public double Score { get; init; }

    /// <summary>Detectors that fired on this point.</summary>
    public DetectorFlags Fired { get; init; }

    /// <summary>Whether the point was used, or why not.</summary>
    public PointStatus Status { get; init; }

    /// <summary>True once the series has seen enough points to raise verdicts.</summary>
    public bool IsWarm { get; init; }
}

/// <summary>Counters of points a series accepted, and of the bad ones it set aside.</summary>
/// <param name="Accepted">Points used.</param>
/// <param name="NonFinite">NaN/Inf value or total, or negative total.</param>
/// <param name="OutOfOrder">Event time before the last accepted point.</param>
/// <param name="Duplicates">Event time equal to the last accepted point.</param>
/// <param name="Gaps">Accepted points that followed a gap longer than <see cref="DetectionProfile.GapIntervals"/> intervals.</param>
/// <param name="InvalidRates">Error-rate values outside [0, 1].</param>
public readonly record struct SeriesCounters(long Accepted, long NonFinite, long OutOfOrder, long Duplicates, long Gaps, long InvalidRates);
