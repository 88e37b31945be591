using Aiops.Core;

namespace Aiops.Evaluation.Gray;

/// <summary>The gray failures the generator plants.</summary>
internal enum GrayFaultKind
{
    /// <summary>Memory use (percent of a 100 % limit) grows linearly until it would exhaust the limit in 12–36 h.</summary>
    MemoryLeak = 0,

    /// <summary>Error rate at 1,000 req/s (60,000 requests a minute) rises by 0.3 percentage points.</summary>
    ErrorRate = 1,

    /// <summary>P99 latency rises by 20 %.</summary>
    TailLatency = 2,

    /// <summary>Throughput steps up or down by 10–20 % (5–10 noise standard deviations).</summary>
    LevelShift = 3,

    /// <summary>A strong daily pattern; near the daily trough the series jumps for 15 min to a value that is inside the normal daily range but far from that time of day's normal.</summary>
    SeasonalSpike = 4,
}

/// <summary>One generated series with its ground truth.</summary>
/// <param name="Kind">The fault family (controls carry the family they are the control of).</param>
/// <param name="Index">Case number within its family.</param>
/// <param name="Faulty">True when a fault is planted; false for a fault-free control.</param>
/// <param name="Series">The series key.</param>
/// <param name="Points">The points, in event-time order.</param>
/// <param name="FaultStartIndex">Index of the first point the fault affects (−1 for a control).</param>
/// <param name="FaultEndIndex">Index of the last point the fault affects (−1 for a control).</param>
/// <param name="MatchEndMs">End of the window in which a verdict counts as detecting the fault (fault end plus grace).</param>
/// <param name="Limit">The resource limit for saturation series (100 %), else null.</param>
/// <param name="Description">What was planted, with its parameters.</param>
internal sealed record GrayCase(GrayFaultKind Kind, int Index, bool Faulty, SeriesKey Series, MetricPoint[] Points, int FaultStartIndex, int FaultEndIndex, long MatchEndMs, double? Limit, string Description)
{
    /// <summary>Event time of the first faulty point (long.MaxValue for a control).</summary>
    public long FaultStartMs => Faulty ? Points[FaultStartIndex].TimestampMs : long.MaxValue;

    /// <summary>The metric kind of every point.</summary>
    public MetricKind MetricKind => Points[0].Kind;

    /// <summary>Whether a verdict at <paramref name="timestampMs"/> falls in the fault's match window [start, end + grace].</summary>
    public bool InFaultWindow(long timestampMs) => Faulty && timestampMs >= FaultStartMs && timestampMs <= MatchEndMs;
}

/// <summary>
/// Deterministic-by-seed generator of synthetic series with planted gray failures and fault-free
/// controls. Each case draws from its own <see cref="Random"/> seeded from (seed, kind, index,
/// faulty), so a case does not depend on how many others are generated or in what order.
/// </summary>
/// <remarks>
/// Shapes (1-minute points unless stated; every case starts on Monday 2026-01-05 00:00 UTC):
/// <list type="bullet">
/// <item>36 h per case for the persistent faults: 24 h of history, the fault starting uniformly
/// in the next 6 h and lasting to the end (so 6–12 h of fault).</item>
/// <item>Memory leak: level 40–60 % with AR(1) noise (φ = 0.9, stationary σ = 1 %), slope
/// (100 − level)/T with T uniform in 12–36 h, so the limit is not reached within the case.</item>
/// <item>Error rate: 60,000 requests a minute (±3 %), base rate 0.1–0.3 % with 10 % log-normal
/// extra-binomial variation, errors drawn from the normal approximation to the binomial; the
/// fault adds 0.3 percentage points to the rate.</item>
/// <item>P99 latency: 150–400 ms, ±5 % daily cycle, 5 % log-normal noise; the fault multiplies by 1.2.</item>
/// <item>Level shift: throughput 200–2,000 req/s, ±5 % daily cycle, 2 % normal noise; the fault
/// shifts the level by ±10–20 %.</item>
/// <item>Seasonal spike: 5-minute points for 5 days, level L 100–1,000 with a daily sine of
/// amplitude L/2 and 3 % noise; on day 5, within ±1 h of the daily trough, three points (15 min)
/// are raised by L/2 (so they sit near the daily mean, inside the normal daily range). A verdict
/// up to 3 points (15 min) after the spike still counts as detecting it.</item>
/// </list>
/// </remarks>
internal static class GrayFailureGenerator
{
    /// <summary>Start of every case: Monday 2026-01-05 00:00:00 UTC, in Unix ms.</summary>
    public static readonly long EpochMs = new DateTimeOffset(2026, 1, 5, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private const long Minute = 60_000;
    private const int DayMinutes = 1440;
    private const int HistoryPoints = DayMinutes;
    private const int FaultStartSpread = 360;
    private const int PersistentCasePoints = DayMinutes + (DayMinutes / 2);
    private const int SeasonalStepMinutes = 5;
    private const int SeasonalPointsPerDay = DayMinutes / SeasonalStepMinutes;
    private const int SeasonalDays = 5;
    private const int SeasonalSpikePoints = 3;
    private const int SeasonalGracePoints = 3;

    /// <summary>All fault kinds, in report order.</summary>
    public static IReadOnlyList<GrayFaultKind> Kinds { get; } = Enum.GetValues<GrayFaultKind>();

    /// <summary>Generates <paramref name="casesPerKind"/> faulty cases and as many controls for every kind.</summary>
    public static List<GrayCase> Generate(int seed, int casesPerKind)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(casesPerKind);
        var cases = new List<GrayCase>(Kinds.Count * casesPerKind * 2);
        foreach (var kind in Kinds)
        {
            for (var i = 0; i < casesPerKind; i++)
            {
                cases.Add(Generate(kind, i, faulty: true, CaseSeed(seed, kind, i, faulty: true)));
                cases.Add(Generate(kind, i, faulty: false, CaseSeed(seed, kind, i, faulty: false)));
            }
        }

        return cases;
    }

    /// <summary>
    /// Generates one case from its own seed. With the same <paramref name="caseSeed"/>, the faulty
    /// case and the control draw the same numbers, so they are identical before the fault.
    /// </summary>
    public static GrayCase Generate(GrayFaultKind kind, int index, bool faulty, int caseSeed)
    {
        var random = new Random(caseSeed);
        return kind switch
        {
            GrayFaultKind.MemoryLeak => MemoryLeak(index, faulty, random),
            GrayFaultKind.ErrorRate => ErrorRate(index, faulty, random),
            GrayFaultKind.TailLatency => TailLatency(index, faulty, random),
            GrayFaultKind.LevelShift => LevelShift(index, faulty, random),
            GrayFaultKind.SeasonalSpike => SeasonalSpike(index, faulty, random),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown fault kind"),
        };
    }

    /// <summary>Derives a case's seed (SplitMix64 finaliser over the inputs), independent of generation order.</summary>
    public static int CaseSeed(int seed, GrayFaultKind kind, int index, bool faulty)
    {
        var z = unchecked((ulong)(uint)seed * 0x9E3779B97F4A7C15UL + ((ulong)kind << 40) + ((ulong)(uint)index << 1) + (faulty ? 1UL : 0UL));
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (int)(z & 0x7FFF_FFFF);
    }

    private static GrayCase MemoryLeak(int index, bool faulty, Random random)
    {
        var key = new SeriesKey("sim-" + index.ToString(System.Globalization.CultureInfo.InvariantCulture), "process.memory.usage", "kind=leak");
        var level = Uniform(random, 40, 60);
        var hours = Uniform(random, 12, 36);
        var slopePerMinute = (100 - level) / (hours * 60);
        var start = HistoryPoints + random.Next(FaultStartSpread);
        const double phi = 0.9;
        var innovation = 1.0 * Math.Sqrt(1 - (phi * phi));
        var ar = 0.0;
        var points = new MetricPoint[PersistentCasePoints];
        for (var i = 0; i < points.Length; i++)
        {
            ar = (phi * ar) + (innovation * Normal(random));
            var leak = faulty && i >= start ? slopePerMinute * (i - start + 1) : 0.0;
            points[i] = new MetricPoint(key, MetricKind.Saturation, EpochMs + (i * Minute), Math.Min(100, level + ar + leak));
        }

        return Build(GrayFaultKind.MemoryLeak, index, faulty, key, points, start, 100,
            $"memory {level:F1} %, leak {slopePerMinute * 60:F2} %/h (exhaustion in {hours:F1} h)");
    }

    private static GrayCase ErrorRate(int index, bool faulty, Random random)
    {
        var key = new SeriesKey("sim-" + index.ToString(System.Globalization.CultureInfo.InvariantCulture), "http.server.error_rate", "kind=errors");
        var baseRate = Uniform(random, 0.001, 0.003);
        var start = HistoryPoints + random.Next(FaultStartSpread);
        var points = new MetricPoint[PersistentCasePoints];
        for (var i = 0; i < points.Length; i++)
        {
            var requests = Math.Round(60_000 * (1 + (0.03 * Normal(random))));
            var rate = baseRate * Math.Exp(0.1 * Normal(random));
            if (faulty && i >= start)
            {
                rate += 0.003;
            }

            var errors = Math.Max(0, Math.Round((requests * rate) + (Math.Sqrt(requests * rate * (1 - rate)) * Normal(random))));
            points[i] = new MetricPoint(key, MetricKind.ErrorRate, EpochMs + (i * Minute), errors / requests, requests);
        }

        return Build(GrayFaultKind.ErrorRate, index, faulty, key, points, start, null,
            $"error rate {baseRate * 100:F2} % at 1,000 req/s, +0.30 pp");
    }

    private static GrayCase TailLatency(int index, bool faulty, Random random)
    {
        var key = new SeriesKey("sim-" + index.ToString(System.Globalization.CultureInfo.InvariantCulture), "http.server.duration.p99", "kind=latency");
        var level = Uniform(random, 150, 400);
        var phase = Uniform(random, 0, 2 * Math.PI);
        var start = HistoryPoints + random.Next(FaultStartSpread);
        var points = new MetricPoint[PersistentCasePoints];
        for (var i = 0; i < points.Length; i++)
        {
            var daily = 1 + (0.05 * Math.Sin((2 * Math.PI * i / DayMinutes) + phase));
            var value = level * daily * Math.Exp(0.05 * Normal(random));
            if (faulty && i >= start)
            {
                value *= 1.2;
            }

            points[i] = new MetricPoint(key, MetricKind.Latency, EpochMs + (i * Minute), value);
        }

        return Build(GrayFaultKind.TailLatency, index, faulty, key, points, start, null,
            $"P99 {level:F0} ms, +20 %");
    }

    private static GrayCase LevelShift(int index, bool faulty, Random random)
    {
        var key = new SeriesKey("sim-" + index.ToString(System.Globalization.CultureInfo.InvariantCulture), "http.server.request_rate", "kind=throughput");
        var level = Uniform(random, 200, 2000);
        var phase = Uniform(random, 0, 2 * Math.PI);
        var shift = Uniform(random, 0.10, 0.20) * (random.Next(2) == 0 ? -1 : 1);
        var start = HistoryPoints + random.Next(FaultStartSpread);
        var points = new MetricPoint[PersistentCasePoints];
        for (var i = 0; i < points.Length; i++)
        {
            var daily = 1 + (0.05 * Math.Sin((2 * Math.PI * i / DayMinutes) + phase));
            var value = level * daily * (1 + (0.02 * Normal(random)));
            if (faulty && i >= start)
            {
                value *= 1 + shift;
            }

            points[i] = new MetricPoint(key, MetricKind.Throughput, EpochMs + (i * Minute), value);
        }

        return Build(GrayFaultKind.LevelShift, index, faulty, key, points, start, null,
            $"throughput {level:F0} req/s, shift {shift * 100:+0.0;-0.0} %");
    }

    private static GrayCase SeasonalSpike(int index, bool faulty, Random random)
    {
        var key = new SeriesKey("sim-" + index.ToString(System.Globalization.CultureInfo.InvariantCulture), "orders.rate", "kind=seasonal");
        var level = Uniform(random, 100, 1000);
        var amplitude = level / 2;
        var phase = Uniform(random, 0, 2 * Math.PI);

        // The sine's trough is where (2π i / P + phase) = 3π/2 (mod 2π); take the one on the last day.
        var troughInDay = (int)Math.Round(((1.5 * Math.PI) - phase + (2 * Math.PI)) % (2 * Math.PI) / (2 * Math.PI) * SeasonalPointsPerDay) % SeasonalPointsPerDay;
        var start = ((SeasonalDays - 1) * SeasonalPointsPerDay) + troughInDay + random.Next(-12, 13);
        start = Math.Clamp(start, (SeasonalDays - 1) * SeasonalPointsPerDay, (SeasonalDays * SeasonalPointsPerDay) - SeasonalSpikePoints - SeasonalGracePoints);
        var points = new MetricPoint[SeasonalDays * SeasonalPointsPerDay];
        for (var i = 0; i < points.Length; i++)
        {
            var value = level + (amplitude * Math.Sin((2 * Math.PI * i / SeasonalPointsPerDay) + phase)) + (0.03 * level * Normal(random));
            if (faulty && i >= start && i < start + SeasonalSpikePoints)
            {
                value += amplitude;
            }

            points[i] = new MetricPoint(key, MetricKind.Generic, EpochMs + (i * SeasonalStepMinutes * Minute), value);
        }

        var end = start + SeasonalSpikePoints - 1;
        return new GrayCase(GrayFaultKind.SeasonalSpike, index, faulty, key, points,
            faulty ? start : -1, faulty ? end : -1,
            faulty ? points[end].TimestampMs + (SeasonalGracePoints * SeasonalStepMinutes * Minute) : long.MinValue, null,
            faulty ? $"daily pattern {level:F0} ± {amplitude:F0}, +{amplitude:F0} for 15 min near the trough" : $"daily pattern {level:F0} ± {amplitude:F0}, no fault");
    }

    private static GrayCase Build(GrayFaultKind kind, int index, bool faulty, SeriesKey key, MetricPoint[] points, int start, double? limit, string description) =>
        new(kind, index, faulty, key, points,
            faulty ? start : -1, faulty ? points.Length - 1 : -1,
            faulty ? points[^1].TimestampMs : long.MinValue, limit,
            faulty ? description : description[..description.LastIndexOf(',')] + ", no fault");

    private static double Uniform(Random random, double lo, double hi) => lo + ((hi - lo) * random.NextDouble());

    /// <summary>Standard normal by Box–Muller (one of the pair; deterministic and cheap enough here).</summary>
    private static double Normal(Random random)
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
