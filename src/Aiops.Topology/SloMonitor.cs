using System.Globalization;
using Aiops.Core;

namespace Aiops.Topology;

/// <summary>Which service level indicator an SLO counts.</summary>
public enum SliKind : byte
{
    /// <summary>Good = request not failed (span status not error).</summary>
    Availability = 0,

    /// <summary>Good = request completed within <see cref="SloDefinition.LatencyThresholdMs"/>.</summary>
    Latency = 1,
}

/// <summary>One objective, e.g. "99.9% of <c>checkout</c> requests under 300 ms".</summary>
public sealed class SloDefinition
{
    /// <summary>Name used in the series labels (<c>slo=NAME</c>).</summary>
    public required string Name { get; set; }

    /// <summary>The service whose server/consumer spans are counted.</summary>
    public required string Service { get; set; }

    /// <summary>Span name to restrict to; null for the whole service.</summary>
    public string? Operation { get; set; }

    /// <summary>What is counted as good.</summary>
    public SliKind Kind { get; set; }

    /// <summary>Target fraction of good requests, e.g. 0.999; the error budget is 1 − objective.</summary>
    public double Objective { get; set; } = 0.999;

    /// <summary>For <see cref="SliKind.Latency"/>: the threshold in ms.</summary>
    public double LatencyThresholdMs { get; set; }
}

/// <summary>One multi-window alert: both windows must burn at least <see cref="BurnRate"/>.</summary>
public sealed class BurnRateRule
{
    /// <summary>Long window (ms), e.g. 1 h.</summary>
    public required long LongWindowMs { get; set; }

    /// <summary>Short window (ms), e.g. 5 min: makes the alert reset soon after the burn stops.</summary>
    public required long ShortWindowMs { get; set; }

    /// <summary>Burn-rate threshold, e.g. 14.4 (2% of a 30-day budget in 1 h).</summary>
    public required double BurnRate { get; set; }
}

/// <summary>Settings of <see cref="SloMonitor"/>.</summary>
public sealed class SloOptions
{
    /// <summary>The objectives to watch.</summary>
    public List<SloDefinition> Objectives { get; set; } = [];

    /// <summary>
    /// Alert rules, most urgent first. Defaults are the Google SRE Workbook's ("Alerting on SLOs",
    /// table 5-8) for a 30-day budget: 1 h + 5 min at 14.4× (2% of the budget in an hour),
    /// 6 h + 30 min at 6× (5% in six hours), 3 d + 6 h at 1× (10% in three days).
    /// </summary>
    public List<BurnRateRule> Rules { get; set; } =
    [
        new() { LongWindowMs = 3_600_000, ShortWindowMs = 300_000, BurnRate = 14.4 },
        new() { LongWindowMs = 6 * 3_600_000, ShortWindowMs = 1_800_000, BurnRate = 6 },
        new() { LongWindowMs = 3 * 86_400_000L, ShortWindowMs = 6 * 3_600_000, BurnRate = 1 },
    ];

    /// <summary>Bucket width (ms) of the good/total counters; every window must be a multiple: 60 s.</summary>
    public long BucketWidthMs { get; set; } = 60_000;

    /// <summary>How long (ms) a bucket stays open for out-of-order spans after it ends: 30 s.</summary>
    public long AllowedLatenessMs { get; set; } = 30_000;

    /// <summary>The SLO period the budget is spread over (ms), only for the alert's sentence: 30 days.</summary>
    public long BudgetPeriodMs { get; set; } = 30 * 86_400_000L;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (BucketWidthMs <= 0 || AllowedLatenessMs < 0 || BudgetPeriodMs <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(BucketWidthMs), "The bucket width and budget period must be positive, the lateness not negative.");
        }

        foreach (var rule in Rules)
        {
            if (rule.LongWindowMs <= 0 || rule.ShortWindowMs <= 0 || rule.LongWindowMs % BucketWidthMs != 0 || rule.ShortWindowMs % BucketWidthMs != 0 || rule.BurnRate <= 0)
            {
                throw new ArgumentException($"Burn-rate rule {rule.LongWindowMs}/{rule.ShortWindowMs} ms at {rule.BurnRate}x: windows must be positive multiples of {BucketWidthMs} ms and the rate positive.", nameof(Rules));
            }
        }

        foreach (var slo in Objectives)
        {
            if (string.IsNullOrEmpty(slo.Name) || string.IsNullOrEmpty(slo.Service))
            {
                throw new ArgumentException("Every SLO needs a name and a service.", nameof(Objectives));
            }

            if (!(slo.Objective > 0 && slo.Objective < 1))
            {
                throw new ArgumentException($"SLO {slo.Name}: the objective must be in (0, 1), got {slo.Objective}.", nameof(Objectives));
            }

            if (slo.Kind == SliKind.Latency && !(slo.LatencyThresholdMs > 0))
            {
                throw new ArgumentException($"SLO {slo.Name}: a latency SLI needs a positive threshold.", nameof(Objectives));
            }
        }
    }
}

/// <summary>
/// Multi-window, multi-burn-rate SLO alerts from spans (Google SRE Workbook, "Alerting on SLOs",
/// approach 6). The burn rate of a window is (bad / total) / (1 − objective): 1 spends the budget
/// exactly over the SLO period. A rule fires when both its long and short windows burn at least
/// its rate; every closed bucket while a rule fires yields one <see cref="DetectorKind.BurnRate"/>
/// anomaly for the most urgent firing rule, on series (service, <c>slo.burn_rate</c>,
/// <c>slo=NAME</c>).
/// </summary>
/// <remarks>
/// Counts are kept per bucket in a ring covering the longest window (3 d / 60 s = 4,320 buckets,
/// 69 KB per SLO) with a running sum per distinct window, so closing a bucket is O(windows).
/// Windows with less history than their length use what there is. Not thread-safe.
/// </remarks>
public sealed class SloMonitor
{
    /// <summary>Metric name of the burn-rate series.</summary>
    public const string MetricName = "slo.burn_rate";

    private readonly SloOptions _options;
    private readonly Dictionary<string, List<SloState>> _byService = new(StringComparer.Ordinal);
    private readonly List<SloState> _states = [];
    private readonly long[] _windows;
    private readonly int _ringSize;
    private readonly int _openAhead;
    private long _closedBefore = long.MinValue;

    /// <summary>Creates a monitor; the options are validated.</summary>
    public SloMonitor(SloOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        var windows = new SortedSet<long>();
        foreach (var rule in options.Rules)
        {
            windows.Add(rule.LongWindowMs);
            windows.Add(rule.ShortWindowMs);
        }

        _windows = [.. windows];
        long longest = _windows.Length == 0 ? options.BucketWidthMs : _windows[^1];
        // Open buckets ahead of the last close: the lateness plus 12 buckets, so a pipeline that
        // advances time only every few buckets loses nothing; closed buckets the longest window
        // still needs are never overwritten.
        _openAhead = (int)(options.AllowedLatenessMs / options.BucketWidthMs) + 12;
        _ringSize = (int)(longest / options.BucketWidthMs) + _openAhead + 1;
        foreach (var slo in options.Objectives)
        {
            var state = new SloState(slo, _ringSize, _windows.Length, options.Rules.Count);
            _states.Add(state);
            if (!_byService.TryGetValue(slo.Service, out var list))
            {
                list = [];
                _byService.Add(slo.Service, list);
            }

            list.Add(state);
        }
    }

    /// <summary>Spans outside the open buckets: after their bucket closed, or too far ahead of the last close.</summary>
    public long LateSpans { get; private set; }

    /// <summary>
    /// The burn rate of a window: (bad / total) / (1 − objective); 0 when there was no traffic.
    /// </summary>
    public static double BurnRate(long bad, long total, double objective) =>
        total <= 0 ? 0 : (double)bad / total / (1 - objective);

    /// <summary>Counts one span against the SLOs of its service (server, consumer and root spans only).</summary>
    public void Observe(in SpanRecord span)
    {
        if (span.Service is null || !_byService.TryGetValue(span.Service, out var states))
        {
            return;
        }

        bool inbound = span.Kind is SpanKind.Server or SpanKind.Consumer || (span.ParentSpanId == 0 && span.Kind is SpanKind.Internal or SpanKind.Unspecified);
        if (!inbound)
        {
            return;
        }

        long width = _options.BucketWidthMs;
        long startMs = span.StartUnixNanos / 1_000_000;
        long bucket = Floor(startMs, width);
        if (_closedBefore == long.MinValue)
        {
            _closedBefore = Floor(startMs - _options.AllowedLatenessMs, width);
        }

        if (bucket < _closedBefore || bucket >= _closedBefore + (_openAhead * width))
        {
            LateSpans++;
            return;
        }

        double durationMs = (span.EndUnixNanos - span.StartUnixNanos) / 1e6;
        foreach (var state in states)
        {
            var slo = state.Definition;
            if (slo.Operation is not null && !string.Equals(slo.Operation, span.Name, StringComparison.Ordinal))
            {
                continue;
            }

            bool bad = slo.Kind == SliKind.Availability ? span.Status == SpanStatus.Error : durationMs > slo.LatencyThresholdMs;
            ref var cell = ref state.Cell(bucket, width);
            if (cell.Start != bucket)
            {
                cell = new SloCell { Start = bucket };
            }

            cell.Total++;
            if (bad)
            {
                cell.Bad++;
            }
        }
    }

    /// <summary>Closes the buckets due by <paramref name="eventTimeMs"/> and returns the burn-rate alerts (a new list).</summary>
    public IReadOnlyList<Anomaly> AdvanceTo(long eventTimeMs)
    {
        var output = new List<Anomaly>();
        AdvanceTo(eventTimeMs, output);
        return output;
    }

    /// <summary>Closes the buckets due by <paramref name="eventTimeMs"/> and adds the burn-rate alerts to <paramref name="output"/>.</summary>
    public void AdvanceTo(long eventTimeMs, ICollection<Anomaly> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_closedBefore == long.MinValue)
        {
            return;
        }

        long width = _options.BucketWidthMs;
        long newClosedBefore = Floor(eventTimeMs - _options.AllowedLatenessMs - width, width) + width;
        if (newClosedBefore <= _closedBefore)
        {
            return;
        }

        long first = _closedBefore;
        if ((newClosedBefore - first) / width > _ringSize)
        {
            // A gap longer than the longest window: nothing in the windows survives it.
            foreach (var state in _states)
            {
                state.Reset();
            }

            first = newClosedBefore - (_ringSize * width);
        }

        for (long b = first; b < newClosedBefore; b += width)
        {
            foreach (var state in _states)
            {
                CloseBucket(state, b, width, output);
            }
        }

        _closedBefore = newClosedBefore;
    }

    private static long Floor(long ms, long width) => ms >= 0 ? ms - (ms % width) : ms - (((ms % width) + width) % width);

    private void CloseBucket(SloState state, long bucket, long width, ICollection<Anomaly> output)
    {
        ref var cell = ref state.Cell(bucket, width);
        long bad = cell.Start == bucket ? cell.Bad : 0;
        long total = cell.Start == bucket ? cell.Total : 0;
        if (cell.Start != bucket)
        {
            cell = new SloCell { Start = bucket };
        }

        for (int w = 0; w < _windows.Length; w++)
        {
            state.Bad[w] += bad;
            state.Total[w] += total;
            long leaving = bucket - _windows[w];
            ref var old = ref state.Cell(leaving, width);
            if (old.Start == leaving)
            {
                state.Bad[w] -= old.Bad;
                state.Total[w] -= old.Total;
            }
        }

        long end = bucket + width;
        var slo = state.Definition;
        int firing = -1;
        double burnLong = 0;
        double burnShort = 0;
        for (int r = 0; r < _options.Rules.Count; r++)
        {
            var rule = _options.Rules[r];
            int lw = Array.IndexOf(_windows, rule.LongWindowMs);
            int sw = Array.IndexOf(_windows, rule.ShortWindowMs);
            double l = BurnRate(state.Bad[lw], state.Total[lw], slo.Objective);
            double s = BurnRate(state.Bad[sw], state.Total[sw], slo.Objective);
            bool fires = l >= rule.BurnRate && s >= rule.BurnRate;
            if (fires)
            {
                if (state.FiringSince[r] == long.MinValue)
                {
                    state.FiringSince[r] = bucket;
                }

                if (firing < 0)
                {
                    firing = r;
                    burnLong = l;
                    burnShort = s;
                }
            }
            else
            {
                state.FiringSince[r] = long.MinValue;
            }
        }

        if (firing < 0)
        {
            return;
        }

        var fired = _options.Rules[firing];
        double ratio = Math.Min(burnLong, burnShort) / fired.BurnRate;
        double score = 1 - (0.5 / ratio);
        double budgetShare = burnLong * fired.LongWindowMs / _options.BudgetPeriodMs;
        output.Add(new Anomaly
        {
            Series = state.Series,
            Kind = MetricKind.ErrorRate,
            Detector = DetectorKind.BurnRate,
            TimestampMs = bucket,
            SinceMs = state.FiringSince[firing],
            Observed = burnLong,
            Expected = 1,
            Lower = 0,
            Upper = fired.BurnRate,
            // A burn-rate alert is a rule, not a test: the p-value slot carries 1 − score so an
            // ordering by p-value agrees with the ordering by score.
            PValue = 1 - score,
            Score = score,
            Direction = Direction.Up,
            Detail = string.Create(CultureInfo.InvariantCulture,
                $"SLO {slo.Name} ({slo.Objective:P3} {(slo.Kind == SliKind.Latency ? $"under {slo.LatencyThresholdMs:0.#} ms" : "available")}): burn rate {burnLong:0.##}x over {Describe(fired.LongWindowMs)} and {burnShort:0.##}x over {Describe(fired.ShortWindowMs)} ≥ {fired.BurnRate:0.##}x; {budgetShare:P1} of the budget spent in {Describe(fired.LongWindowMs)} (bucket ending {end})."),
        });
    }

    private static string Describe(long ms) =>
        ms % 86_400_000 == 0 ? $"{ms / 86_400_000}d" : ms % 3_600_000 == 0 ? $"{ms / 3_600_000}h" : $"{ms / 60_000}m";

    private struct SloCell
    {
        public long Start;
        public long Bad;
        public long Total;
    }

    private sealed class SloState
    {
        private readonly SloCell[] _ring;

        public SloState(SloDefinition definition, int ringSize, int windows, int rules)
        {
            Definition = definition;
            string labels = definition.Operation is null
                ? "slo=" + definition.Name
                : RedMetrics.OperationLabel + "=" + definition.Operation + ",slo=" + definition.Name;
            Series = new SeriesKey(definition.Service, MetricName, labels);
            _ring = new SloCell[ringSize];
            Bad = new long[windows];
            Total = new long[windows];
            FiringSince = new long[rules];
            Reset();
        }

        public SloDefinition Definition { get; }

        public SeriesKey Series { get; }

        public long[] Bad { get; }

        public long[] Total { get; }

        public long[] FiringSince { get; }

        public ref SloCell Cell(long bucket, long width)
        {
            long n = _ring.Length;
            return ref _ring[((bucket / width) % n + n) % n];
        }

        public void Reset()
        {
            for (int i = 0; i < _ring.Length; i++)
            {
                _ring[i] = new SloCell { Start = long.MinValue };
            }

            Array.Clear(Bad);
            Array.Clear(Total);
            Array.Fill(FiringSince, long.MinValue);
        }
    }
}
