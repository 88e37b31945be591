using Aiops.Core;

namespace Aiops.Detection;

/// <summary>Which departures from the baseline a series should be alerted on.</summary>
public enum AlertDirection : byte
{
    /// <summary>Both directions (throughput: a drop may be an outage, a surge a retry storm).</summary>
    Both = 0,

    /// <summary>Only rises (latency, error rate, saturation: lower is never a problem).</summary>
    Up = 1,

    /// <summary>Only drops.</summary>
    Down = 2,
}

/// <summary>
/// The tunable parameters of one <see cref="SeriesDetector"/>, one profile per <see cref="MetricKind"/>.
/// Defaults (<see cref="Default(MetricKind)"/>) make the library usable without files; JSON files under
/// <c>models/profiles/</c> override them (<see cref="ProfileLoader"/>). Every number here is a knob a
/// detector reads; no detector hides its own constants.
/// </summary>
public sealed record DetectionProfile
{
    /// <summary>The metric kind the profile applies to.</summary>
    public MetricKind Kind { get; init; } = MetricKind.Generic;

    /// <summary>Points a series must see before it may raise verdicts (the baseline needs data first).</summary>
    public int WarmupPoints { get; init; } = 64;

    /// <summary>SSA window L (rows of the trajectory matrix). 16 captures periods up to ~16 samples at rank 3 and keeps a refit at ~4k flops.</summary>
    public int SsaWindow { get; init; } = 16;

    /// <summary>Length N of the SSA training history (N = L + K - 1); 64 doubles = 512 B of state.</summary>
    public int SsaHistory { get; init; } = 64;

    /// <summary>Number r of leading eigen-components kept for the linear-recurrence forecast.</summary>
    public int SsaRank { get; init; } = 3;

    /// <summary>The SSA model and residual scale are refitted every k accepted points (amortised cost; 64 would score NAB 30.4 vs 28.7 at half the refit cost, but learns a new season too late: seasonal-spike precision fell from 0.79 to 0.25).</summary>
    public int RefitInterval { get; init; } = 32;

    /// <summary>Every how many refits the SSA subspace is recomputed by a full MathNet eigen-decomposition instead of warm-started subspace iteration (64 × 32 points: MathNet's ≈ 300 B of work arrays amortise to ≈ 0.15 B per point).</summary>
    public int FullDecompositionEvery { get; init; } = 64;

    /// <summary>Recent residuals kept for the empirical p-value (robust quantiles); 88 floats = 352 B, sized so a series with the likelihood stage stays within the 4 KiB state budget (128 scored better on NAB before that stage existed).</summary>
    public int ResidualWindow { get; init; } = 88;

    /// <summary>Half width of the normal band in robust standard deviations.</summary>
    public double BandSigmas { get; init; } = 3.0;

    /// <summary>P-value at or below which a point is a spike (score 0.5 at exactly this value). 1e-7: at one point a minute a series sees ~1,440 points a day, so 1e-4 would page on noise every week per series; 1e-7 vs 1e-6 raised seasonal-spike precision from 0.79 to 0.88 at equal recall.</summary>
    public double SpikePValue { get; init; } = 1e-7;

    /// <summary>Which departures are alerted on.</summary>
    public AlertDirection Direction { get; init; } = AlertDirection.Both;

    /// <summary>Power martingale ε (Vovk et al. 2003); ML.NET's SsaChangePointDetector uses 0.1.</summary>
    public double MartingaleEpsilon { get; init; } = 0.1;

    /// <summary>Smallest p-value a single point may bet on (1e-3 caps one point's log-bet at ln ε + 0.9·ln 1000 ≈ 3.9, so one spike alone is never a change point).</summary>
    public double MartingalePFloor { get; init; } = 1e-3;

    /// <summary>Natural-log threshold of the CUSUM-type power martingale (ln 10^6 ≈ 13.8: by Ville's inequality a run from a restart crosses it with probability ≤ 1e-6 under exchangeability; real residuals are autocorrelated, which 1e-4 showed to be too few).</summary>
    public double MartingaleLogThreshold { get; init; } = 13.8;

    /// <summary>CUSUM reference k in standard deviations (half the smallest shift worth catching: 1σ).</summary>
    public double CusumK { get; init; } = 0.5;

    /// <summary>CUSUM decision threshold h in long-run standard deviations (k = 0.5, h = 12: in-control run length far above 10^5 points for Gaussian noise; 8 cost NAB points on real, correlated data).</summary>
    public double CusumH { get; init; } = 12.0;

    /// <summary>Smallest level shift worth a verdict, in robust standard deviations of the one-step residuals (a slow reference level lags a daily cycle it has not learnt yet by 1–2σ; real shifts worth paging for are larger).</summary>
    public double LevelMinShiftSigmas { get; init; } = 3.0;

    /// <summary>
    /// Smallest level shift worth a verdict, in long-run standard deviations of the level (the σ the
    /// CUSUM is standardised by); 0 disables this check. A series swinging through a daily cycle it
    /// has not learnt yet drifts from its slow reference level by a fraction of that σ and the
    /// CUSUM accumulates it into "shifts" of 0.6–0.85σ (the first-day false alarms of the gray
    /// seasonal controls, seed 1); a real shift clears 1σ (gray level-shift recall 1.00 at 0, 1.0 and
    /// 1.5; seasonal-spike precision 0.877 → 0.943 at 1.0).
    /// </summary>
    public double LevelMinLongRunSigmas { get; init; } = 1.0;

    /// <summary>Smoothing of the slow reference level the CUSUM compares against (per point).</summary>
    public double LevelAlpha { get; init; } = 0.02;

    /// <summary>Whether the robust trend (leak) detector runs (on by default for saturation only: a latency or throughput that rises over hours is more often a daily cycle not yet learnt than a leak).</summary>
    public bool TrendEnabled { get; init; }

    /// <summary>Points averaged into one trend block; the trend test sees <see cref="TrendBlocks"/> blocks.</summary>
    public int TrendBlockPoints { get; init; } = 16;

    /// <summary>Number of block means in the Mann–Kendall / Theil–Sen window (32 blocks: 496 pairs per test).</summary>
    public int TrendBlocks { get; init; } = 32;

    /// <summary>Mann–Kendall two-sided p-value at or below which a trend is significant.</summary>
    public double TrendPValue { get; init; } = 1e-6;

    /// <summary>Minimum change over the trend window, in robust standard deviations of the level, for a trend to matter.</summary>
    public double TrendMinChangeSigmas { get; init; } = 3.0;

    /// <summary>Known capacity of the resource (e.g. 1.0 for a fraction, bytes of a memory limit); enables time-to-exhaustion. Null = unknown.</summary>
    public double? Capacity { get; init; }

    /// <summary>Whether the binomial rate test runs on points that carry a request count.</summary>
    public bool RateTestEnabled { get; init; }

    /// <summary>Relative increase of the error rate the sequential test is tuned to (1.0 = doubling: 0.2% vs 0.4%).</summary>
    public double RateRelativeIncrease { get; init; } = 1.0;

    /// <summary>Log-likelihood-ratio threshold of the Bernoulli CUSUM (ln 10^6 ≈ 13.8: at 60,000 requests a point one point alone must be ≈ 4.5σ above the baseline, which keeps real error counts — over-dispersed by ~10% beyond binomial — from paging on noise).</summary>
    public double RateLogThreshold { get; init; } = 13.8;

    /// <summary>Half-life, in points, of the baseline error rate.</summary>
    public double RateBaselineHalfLife { get; init; } = 600;

    /// <summary>Requests the baseline must have seen before the rate test may fire.</summary>
    public double RateMinBaselineRequests { get; init; } = 50_000;

    /// <summary>Floor of the baseline error rate (a series with no errors yet still has a finite test).</summary>
    public double RateFloor { get; init; } = 1e-4;

    /// <summary>Whether the tail-latency shift test (relative CUSUM) runs.</summary>
    public bool TailShiftEnabled { get; init; }

    /// <summary>Smallest relative shift of a latency quantile worth reporting (0.15 = 15%).</summary>
    public double TailMinRelativeShift { get; init; } = 0.15;

    /// <summary>Points during which a detector stays quiet after it fired (one verdict per episode, not one per point).</summary>
    public int CooldownPoints { get; init; } = 120;

    /// <summary>Factor applied to the score during the <see cref="CooldownPoints"/> after a detector fired (NAB counts every row above its threshold; one episode should score once).</summary>
    public double QuietScoreFactor { get; init; } = 0.1;

    /// <summary>Weight of the sequential detectors' running evidence (statistic / threshold) in the score of points where none fires; 0 = they score only when they fire.</summary>
    public double SequentialScoreWeight { get; init; } = 0.3;

    /// <summary>Whether seasonal periods are searched (daily, weekly and one from the autocorrelation).</summary>
    public bool SeasonalityEnabled { get; init; } = true;

    /// <summary>Fraction of the level variance a seasonal profile must explain before it is used (0.3).</summary>
    public double SeasonMinExplained { get; init; } = 0.3;

    /// <summary>Smoothing of a seasonal bucket per visit.</summary>
    public double SeasonAlpha { get; init; } = 0.1;

    /// <summary>Buckets of the daily profile (96 = 15 minutes).</summary>
    public int DailyBuckets { get; init; } = 96;

    /// <summary>Buckets of the weekly profile (168 = one hour).</summary>
    public int WeeklyBuckets { get; init; } = 168;

    /// <summary>A gap longer than this many sampling intervals is counted as a gap.</summary>
    public double GapIntervals { get; init; } = 3.0;

    /// <summary>Consecutive anomalous points replaced by their expected value in the baseline history before the new level is accepted.</summary>
    public int MaxSubstitutedPoints { get; init; } = 4;

    /// <summary>The score stage (anomaly likelihood with suppression) that makes one threshold work across series; see <see cref="AnomalyLikelihood"/>.</summary>
    public LikelihoodOptions Likelihood { get; init; } = new(); // nab

    /// <summary>
    /// The built-in profile for a metric kind. Saturation uses stricter spike (1e-8) and
    /// martingale (ln 10^8) thresholds: its noise is strongly autocorrelated (memory, queues), its
    /// failure mode is the leak the trend test watches, and with the generic thresholds the
    /// gray-failure controls raised 13 false alarms per 100 series-days (precision 0.79 → 0.98).
    /// </summary>
    public static DetectionProfile Default(MetricKind kind) => kind switch
    {
        MetricKind.Latency => new DetectionProfile { Kind = kind, Direction = AlertDirection.Up, TailShiftEnabled = true },
        MetricKind.ErrorRate => new DetectionProfile { Kind = kind, Direction = AlertDirection.Up, RateTestEnabled = true, Capacity = null },
        MetricKind.Throughput => new DetectionProfile { Kind = kind, Direction = AlertDirection.Both },
        MetricKind.Saturation => new DetectionProfile { Kind = kind, Direction = AlertDirection.Up, TrendEnabled = true, SpikePValue = 1e-8, MartingaleLogThreshold = 18.4 },
        _ => new DetectionProfile { Kind = MetricKind.Generic },
    };

    /// <summary>
    /// Checks every field; returns one message per problem, naming the field and why, or an empty list.
    /// </summary>
    public IReadOnlyList<string> Validate()
    {
        // Conditions are checked first and messages formatted only on failure, so validating a good
        // profile (every detector construction does) allocates nothing.
        List<string>? errors = null;
        if (!(WarmupPoints >= 0))
        {
            (errors ??= []).Add($"warmupPoints: must be >= 0, got {WarmupPoints}");
        }

        if (!(SsaWindow is >= 2 and <= 64))
        {
            (errors ??= []).Add($"ssaWindow: must be in [2, 64], got {SsaWindow}");
        }

        if (!(SsaHistory >= 2 * SsaWindow && SsaHistory <= 512))
        {
            (errors ??= []).Add($"ssaHistory: must be in [2*ssaWindow, 512] = [{2 * SsaWindow}, 512], got {SsaHistory}");
        }

        if (!(SsaRank >= 1 && SsaRank < SsaWindow))
        {
            (errors ??= []).Add($"ssaRank: must be in [1, ssaWindow-1] = [1, {SsaWindow - 1}], got {SsaRank}");
        }

        if (!(RefitInterval is >= 1 and <= 100_000))
        {
            (errors ??= []).Add($"refitInterval: must be in [1, 100000], got {RefitInterval}");
        }

        if (!(FullDecompositionEvery >= 1))
        {
            (errors ??= []).Add($"fullDecompositionEvery: must be >= 1, got {FullDecompositionEvery}");
        }

        if (!(ResidualWindow is >= 8 and <= 1024))
        {
            (errors ??= []).Add($"residualWindow: must be in [8, 1024], got {ResidualWindow}");
        }

        if (!(BandSigmas > 0 && double.IsFinite(BandSigmas)))
        {
            (errors ??= []).Add($"bandSigmas: must be a positive number, got {BandSigmas}");
        }

        if (!(SpikePValue is > 0 and < 1))
        {
            (errors ??= []).Add($"spikePValue: must be in (0, 1), got {SpikePValue}");
        }

        if (!(MartingaleEpsilon is > 0 and < 1))
        {
            (errors ??= []).Add($"martingaleEpsilon: must be in (0, 1), got {MartingaleEpsilon}");
        }

        if (!(MartingalePFloor is > 0 and < 1))
        {
            (errors ??= []).Add($"martingalePFloor: must be in (0, 1), got {MartingalePFloor}");
        }

        if (!(MartingaleLogThreshold > 0 && double.IsFinite(MartingaleLogThreshold)))
        {
            (errors ??= []).Add($"martingaleLogThreshold: must be a positive number, got {MartingaleLogThreshold}");
        }

        if (!(CusumK >= 0 && double.IsFinite(CusumK)))
        {
            (errors ??= []).Add($"cusumK: must be >= 0, got {CusumK}");
        }

        if (!(CusumH > 0 && double.IsFinite(CusumH)))
        {
            (errors ??= []).Add($"cusumH: must be > 0, got {CusumH}");
        }

        if (!(LevelMinShiftSigmas >= 0 && double.IsFinite(LevelMinShiftSigmas)))
        {
            (errors ??= []).Add($"levelMinShiftSigmas: must be >= 0, got {LevelMinShiftSigmas}");
        }

        if (!(LevelMinLongRunSigmas >= 0 && double.IsFinite(LevelMinLongRunSigmas)))
        {
            (errors ??= []).Add($"levelMinLongRunSigmas: must be >= 0, got {LevelMinLongRunSigmas}");
        }

        if (!(LevelAlpha is > 0 and <= 1))
        {
            (errors ??= []).Add($"levelAlpha: must be in (0, 1], got {LevelAlpha}");
        }

        if (!(TrendBlockPoints >= 1))
        {
            (errors ??= []).Add($"trendBlockPoints: must be >= 1, got {TrendBlockPoints}");
        }

        if (!(TrendBlocks is >= 8 and <= 128))
        {
            (errors ??= []).Add($"trendBlocks: must be in [8, 128], got {TrendBlocks}");
        }

        if (!(TrendPValue is > 0 and < 1))
        {
            (errors ??= []).Add($"trendPValue: must be in (0, 1), got {TrendPValue}");
        }

        if (!(TrendMinChangeSigmas >= 0 && double.IsFinite(TrendMinChangeSigmas)))
        {
            (errors ??= []).Add($"trendMinChangeSigmas: must be >= 0, got {TrendMinChangeSigmas}");
        }

        if (!(Capacity is null || double.IsFinite(Capacity.Value)))
        {
            (errors ??= []).Add($"capacity: must be a finite number or null, got {Capacity}");
        }

        if (!(RateRelativeIncrease > 0 && double.IsFinite(RateRelativeIncrease)))
        {
            (errors ??= []).Add($"rateRelativeIncrease: must be > 0, got {RateRelativeIncrease}");
        }

        if (!(RateLogThreshold > 0 && double.IsFinite(RateLogThreshold)))
        {
            (errors ??= []).Add($"rateLogThreshold: must be > 0, got {RateLogThreshold}");
        }

        if (!(RateBaselineHalfLife >= 1 && double.IsFinite(RateBaselineHalfLife)))
        {
            (errors ??= []).Add($"rateBaselineHalfLife: must be >= 1, got {RateBaselineHalfLife}");
        }

        if (!(RateMinBaselineRequests >= 0 && double.IsFinite(RateMinBaselineRequests)))
        {
            (errors ??= []).Add($"rateMinBaselineRequests: must be >= 0, got {RateMinBaselineRequests}");
        }

        if (!(RateFloor is > 0 and < 1))
        {
            (errors ??= []).Add($"rateFloor: must be in (0, 1), got {RateFloor}");
        }

        if (!(TailMinRelativeShift > 0 && double.IsFinite(TailMinRelativeShift)))
        {
            (errors ??= []).Add($"tailMinRelativeShift: must be > 0, got {TailMinRelativeShift}");
        }

        if (!(QuietScoreFactor is >= 0 and <= 1))
        {
            (errors ??= []).Add($"quietScoreFactor: must be in [0, 1], got {QuietScoreFactor}");
        }

        if (!(SequentialScoreWeight is >= 0 and <= 1))
        {
            (errors ??= []).Add($"sequentialScoreWeight: must be in [0, 1], got {SequentialScoreWeight}");
        }

        if (!(CooldownPoints >= 0))
        {
            (errors ??= []).Add($"cooldownPoints: must be >= 0, got {CooldownPoints}");
        }

        if (!(SeasonMinExplained is > 0 and < 1))
        {
            (errors ??= []).Add($"seasonMinExplained: must be in (0, 1), got {SeasonMinExplained}");
        }

        if (!(SeasonAlpha is > 0 and <= 1))
        {
            (errors ??= []).Add($"seasonAlpha: must be in (0, 1], got {SeasonAlpha}");
        }

        if (!(DailyBuckets is >= 4 and <= 288))
        {
            (errors ??= []).Add($"dailyBuckets: must be in [4, 288], got {DailyBuckets}");
        }

        if (!(WeeklyBuckets is >= 7 and <= 336))
        {
            (errors ??= []).Add($"weeklyBuckets: must be in [7, 336], got {WeeklyBuckets}");
        }

        if (!(GapIntervals > 1 && double.IsFinite(GapIntervals)))
        {
            (errors ??= []).Add($"gapIntervals: must be > 1, got {GapIntervals}");
        }

        if (!(MaxSubstitutedPoints >= 0))
        {
            (errors ??= []).Add($"maxSubstitutedPoints: must be >= 0, got {MaxSubstitutedPoints}");
        }

        if (Likelihood is null) { (errors ??= []).Add("likelihood: must be an object"); } else { Likelihood.Validate(ref errors); } // nab

        return errors ?? (IReadOnlyList<string>)[];
    }
}
