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

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var slo in Objectives)
        {
            if (string.IsNullOrEmpty(slo.Name) || string.IsNullOrEmpty(slo.Service))
            {
                throw new ArgumentException("Every SLO needs a name and a service.", nameof(Objectives));
            }

            if (!names.Add(slo.Name))
            {
                // The name labels the burn-rate series and identifies the SLO's counts between the stages of a repartitioned pipeline.
                throw new ArgumentException($"SLO name {slo.Name} is used twice; names must be unique.", nameof(Objectives));
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
/// <para>Counts are kept per bucket in a ring covering the longest window (3 d / 60 s = 4,320 buckets,
/// 69 KB per SLO) with a running sum per distinct window, so closing a bucket is O(windows).
/// Windows with less history than their length use what there is. Not thread-safe.</para>
/// <para>Split over stages (a repartitioned pipeline, where each input partition sees a share of a
/// service's spans): a <em>counts-only</em> monitor per input partition counts its spans and, as
/// each bucket closes, hands its good/total counts on as <see cref="SloShare"/>s; the monitor of
/// the stage that sees the whole service takes them (<see cref="AddShare"/>), holds them until
/// their bucket closes and runs the windows on the sums. Counts add exactly, so the alerts are
/// those of one monitor fed every span.</para>
/// </remarks>
public sealed class SloMonitor
{
    /// <summary>Metric name of the burn-rate series.</summary>
    public const string MetricName = "slo.burn_rate";

    private const uint StateMagic = 0x4F4C5341; // "ASLO"
    private const int StateVersion = 1;

    private readonly SloOptions _options;
    private readonly bool _countsOnly;
    private readonly Dictionary<string, List<SloState>> _byService = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _byName = new(StringComparer.Ordinal);
    private readonly List<SloState> _states = [];
    private readonly SortedDictionary<long, Dictionary<ShareKey, SloCounts>> _pending = [];
    private readonly long[] _windows;
    private readonly int _ringSize;
    private readonly int _openAhead;
    private long _closedBefore = long.MinValue;

    /// <summary>
    /// Creates a monitor; the options are validated. A <paramref name="countsOnly"/> monitor (the
    /// ingest stage of a repartitioned pipeline) keeps only its open buckets and closes them into
    /// <see cref="SloShare"/>s (<see cref="AdvanceTo(long, ICollection{SloShare})"/>); the others
    /// run the windows, on the spans they observe or the shares they are given.
    /// </summary>
    public SloMonitor(SloOptions options, bool countsOnly = false)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _countsOnly = countsOnly;
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
        // still needs are never overwritten. A counts-only monitor keeps no closed bucket.
        _openAhead = (int)(options.AllowedLatenessMs / options.BucketWidthMs) + 12;
        _ringSize = (countsOnly ? 0 : (int)(longest / options.BucketWidthMs)) + _openAhead + 1;
        foreach (var slo in options.Objectives)
        {
            var state = new SloState(slo, _ringSize, _windows.Length, options.Rules.Count);
            _byName.Add(slo.Name, _states.Count);
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

    /// <summary>Shares that arrived after their bucket had closed here (dropped: the windows have moved past them).</summary>
    public long LateShares { get; private set; }

    /// <summary>Shares refused: an objective this monitor does not have (another configuration), or impossible counts.</summary>
    public long RejectedShares { get; private set; }

    /// <summary>Shares held until their bucket closes.</summary>
    public int PendingShares
    {
        get
        {
            int n = 0;
            foreach (var shares in _pending.Values)
            {
                n += shares.Count;
            }

            return n;
        }
    }

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

    /// <summary>
    /// Takes one input partition's counts of a bucket (see <see cref="SloShare"/>), held until the
    /// bucket closes. A share from the same <paramref name="source"/> for the same objective and
    /// bucket replaces the earlier one (a redelivery never adds twice); a share for a bucket that
    /// already closed is counted in <see cref="LateShares"/>, one with an unknown objective or
    /// impossible counts in <see cref="RejectedShares"/>, and dropped.
    /// </summary>
    public void AddShare(int source, in SloShare share)
    {
        RequireWindows();
        long width = _options.BucketWidthMs;
        if (share.Objective is null || !_byName.TryGetValue(share.Objective, out int index)
            || !string.Equals(_states[index].Definition.Service, share.Service, StringComparison.Ordinal)
            || share.Total <= 0 || share.Bad < 0 || share.Bad > share.Total || Floor(share.BucketStartMs, width) != share.BucketStartMs)
        {
            RejectedShares++;
            return;
        }

        if (_closedBefore != long.MinValue && share.BucketStartMs < _closedBefore)
        {
            LateShares++;
            return;
        }

        if (!_pending.TryGetValue(share.BucketStartMs, out var shares))
        {
            shares = [];
            _pending.Add(share.BucketStartMs, shares);
        }

        shares[new ShareKey(source, index)] = new SloCounts(share.Bad, share.Total);
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
        RequireWindows();
        long width = _options.BucketWidthMs;
        long newClosedBefore = ClosingBound(eventTimeMs);
        if (_closedBefore == long.MinValue)
        {
            // Fed by shares only: the windows start at the oldest bucket due. Every source has
            // passed it (the caller's event time is the minimum of theirs), so none is still to come.
            if (!TryOldestPending(out long oldest) || oldest >= newClosedBefore)
            {
                return;
            }

            _closedBefore = oldest;
        }

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
            DropPendingBefore(first);
        }

        for (long b = first; b < newClosedBefore; b += width)
        {
            if (_pending.Count > 0 && _pending.TryGetValue(b, out var shares))
            {
                Fold(b, width, shares);
                _pending.Remove(b);
            }

            foreach (var state in _states)
            {
                CloseBucket(state, b, width, output);
            }
        }

        _closedBefore = newClosedBefore;
    }

    /// <summary>
    /// Counts-only monitor: closes the buckets due by <paramref name="eventTimeMs"/> and adds one
    /// share per objective and closed bucket that counted a request to <paramref name="output"/>
    /// (bucket by bucket, objectives in configuration order).
    /// </summary>
    public void AdvanceTo(long eventTimeMs, ICollection<SloShare> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!_countsOnly)
        {
            throw new InvalidOperationException("This SLO monitor runs the windows itself; only a counts-only monitor closes its buckets into shares.");
        }

        long newClosedBefore = ClosingBound(eventTimeMs);
        if (_closedBefore == long.MinValue || newClosedBefore <= _closedBefore)
        {
            return;
        }

        // Only the open buckets can hold counts: a jump past them closes those and skips the rest.
        long width = _options.BucketWidthMs;
        long last = Math.Min(newClosedBefore, _closedBefore + (_openAhead * width));
        for (long b = _closedBefore; b < last; b += width)
        {
            foreach (var state in _states)
            {
                ref var cell = ref state.Cell(b, width);
                if (cell.Start != b)
                {
                    continue;
                }

                if (cell.Total > 0)
                {
                    output.Add(new SloShare(state.Definition.Service, state.Definition.Name, b, cell.Bad, cell.Total));
                }

                cell = new SloCell { Start = long.MinValue };
            }
        }

        _closedBefore = newClosedBefore;
    }

    /// <summary>
    /// Writes the open state (see common.md's checkpoint rule): the closing position, the counts
    /// of every bucket still in the ring (only those that counted a request), the windows' running
    /// sums, when each rule started firing, and the held shares, in a fixed order (ring slot order;
    /// shares by bucket, source, objective), so the same state gives the same bytes. Section:
    /// magic "ASLO", version 1, the layout it was saved with (objectives, windows, ring), the state,
    /// the magic inverted. Not on the hot path: O(ring × objectives).
    /// </summary>
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(StateMagic);
        writer.Write(StateVersion);
        WriteLayout(writer);
        writer.Write(_closedBefore);
        writer.Write(LateSpans);
        writer.Write(LateShares);
        writer.Write(RejectedShares);
        foreach (var state in _states)
        {
            state.Save(writer);
        }

        writer.Write(_pending.Count);
        foreach (var (bucket, shares) in _pending)
        {
            writer.Write(bucket);
            writer.Write(shares.Count);
            var keys = new List<ShareKey>(shares.Keys);
            keys.Sort();
            foreach (var key in keys)
            {
                var counts = shares[key];
                writer.Write(key.Source);
                writer.Write(key.Objective);
                writer.Write(counts.Bad);
                writer.Write(counts.Total);
            }
        }

        writer.Write(~StateMagic);
    }

    /// <summary>
    /// Replaces this monitor's state with one written by <see cref="SaveState"/> (into a monitor
    /// built with the same options). Throws <see cref="InvalidDataException"/> naming what is wrong
    /// for another section, another version, a state saved with other objectives, rules or mode,
    /// or a truncated or corrupt one; the state is then empty, as at start.
    /// </summary>
    public void LoadState(BinaryReader reader) => Load(reader, skipOtherLayout: false);

    /// <summary>
    /// Writes <paramref name="monitor"/>'s state as a length-prefixed section (length 0 when there is
    /// no monitor: no SLO configured), so a stage's checkpoint can carry it whatever the SLO settings.
    /// </summary>
    public static void SaveSection(BinaryWriter writer, SloMonitor? monitor)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (monitor is null)
        {
            writer.Write(0);
            return;
        }

        using var buffer = new MemoryStream();
        using (var inner = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            monitor.SaveState(inner);
        }

        writer.Write(checked((int)buffer.Length));
        writer.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>
    /// Reads a section written by <see cref="SaveSection"/> into <paramref name="monitor"/>. A state
    /// saved under other SLOs (objectives or rules changed between the save and the restart) or
    /// without SLOs is skipped, the windows then start empty as at a first start: changing the
    /// objectives must not make the rest of the checkpoint (the detectors' baselines) unreadable.
    /// A corrupt or truncated section throws <see cref="InvalidDataException"/>.
    /// </summary>
    /// <returns>True when the state was loaded.</returns>
    public static bool LoadSection(BinaryReader reader, SloMonitor? monitor)
    {
        ArgumentNullException.ThrowIfNull(reader);
        byte[] section;
        try
        {
            int length = reader.ReadInt32();
            long left = reader.BaseStream.CanSeek ? reader.BaseStream.Length - reader.BaseStream.Position : int.MaxValue;
            if (length < 0 || length > left)
            {
                throw new InvalidDataException($"The SLO state section claims {length} bytes with {left} left (corrupt or truncated).");
            }

            section = reader.ReadBytes(length);
            if (section.Length != length)
            {
                throw new InvalidDataException("The SLO state section is truncated.");
            }
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("The SLO state section is truncated.", e);
        }

        if (section.Length == 0 || monitor is null)
        {
            return false;
        }

        using var inner = new BinaryReader(new MemoryStream(section, writable: false), System.Text.Encoding.UTF8);
        return monitor.Load(inner, skipOtherLayout: true);
    }

    private static long Floor(long ms, long width) => ms >= 0 ? ms - (ms % width) : ms - (((ms % width) + width) % width);

    private long ClosingBound(long eventTimeMs)
    {
        long width = _options.BucketWidthMs;
        return Floor(eventTimeMs - _options.AllowedLatenessMs - width, width) + width;
    }

    private void RequireWindows()
    {
        if (_countsOnly)
        {
            throw new InvalidOperationException("A counts-only SLO monitor has no windows: close its buckets into shares with AdvanceTo(long, ICollection<SloShare>).");
        }
    }

    private bool TryOldestPending(out long oldest)
    {
        foreach (var bucket in _pending.Keys)
        {
            oldest = bucket;
            return true;
        }

        oldest = long.MinValue;
        return false;
    }

    private void DropPendingBefore(long bucket)
    {
        while (TryOldestPending(out long oldest) && oldest < bucket)
        {
            _pending.Remove(oldest);
        }
    }

    private void Fold(long bucket, long width, Dictionary<ShareKey, SloCounts> shares)
    {
        foreach (var (key, counts) in shares)
        {
            ref var cell = ref _states[key.Objective].Cell(bucket, width);
            if (cell.Start != bucket)
            {
                cell = new SloCell { Start = bucket };
            }

            cell.Bad += counts.Bad;
            cell.Total += counts.Total;
        }
    }

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

    /// <summary>What the state depends on besides itself: mode, objectives (name, service), rules, ring; a restore checks it.</summary>
    private void WriteLayout(BinaryWriter writer)
    {
        writer.Write(_countsOnly);
        writer.Write(_options.BucketWidthMs);
        writer.Write(_ringSize);
        writer.Write(_states.Count);
        foreach (var state in _states)
        {
            var slo = state.Definition;
            writer.Write(slo.Name);
            writer.Write(slo.Service);
        }

        writer.Write(_options.Rules.Count);
        foreach (var rule in _options.Rules)
        {
            writer.Write(rule.LongWindowMs);
            writer.Write(rule.ShortWindowMs);
        }
    }

    /// <summary>The difference between a saved layout and this monitor's, or null when they agree.</summary>
    private string? CompareLayout(BinaryReader reader)
    {
        using var mine = new MemoryStream();
        using (var writer = new BinaryWriter(mine, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            WriteLayout(writer);
        }

        bool countsOnly = reader.ReadBoolean();
        long width = reader.ReadInt64();
        int ring = reader.ReadInt32();
        int objectives = reader.ReadInt32();
        if (objectives < 0 || objectives > 100_000)
        {
            throw new InvalidDataException($"The SLO monitor state claims {objectives} objectives (corrupt).");
        }

        using var saved = new MemoryStream();
        using (var writer = new BinaryWriter(saved, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(countsOnly);
            writer.Write(width);
            writer.Write(ring);
            writer.Write(objectives);
            for (int i = 0; i < objectives; i++)
            {
                writer.Write(reader.ReadString());
                writer.Write(reader.ReadString());
            }

            int rules = reader.ReadInt32();
            if (rules < 0 || rules > 100_000)
            {
                throw new InvalidDataException($"The SLO monitor state claims {rules} burn-rate rules (corrupt).");
            }

            writer.Write(rules);
            for (int i = 0; i < rules; i++)
            {
                writer.Write(reader.ReadInt64());
                writer.Write(reader.ReadInt64());
            }
        }

        if (countsOnly != _countsOnly)
        {
            return countsOnly ? "it was saved by a counts-only (ingest) monitor, this one runs the windows" : "it was saved by a monitor that runs the windows, this one is counts-only (ingest)";
        }

        return mine.ToArray().AsSpan().SequenceEqual(saved.ToArray())
            ? null
            : $"it was saved with other SLO settings ({objectives} objectives, bucket {width} ms, ring {ring}; this monitor has {_states.Count}, {_options.BucketWidthMs} ms, {_ringSize})";
    }

    private bool Load(BinaryReader reader, bool skipOtherLayout)
    {
        ArgumentNullException.ThrowIfNull(reader);
        Clear();
        try
        {
            uint magic = reader.ReadUInt32();
            if (magic != StateMagic)
            {
                throw new InvalidDataException($"Not an SLO monitor state: magic 0x{magic:X8}, expected 0x{StateMagic:X8} (another section, or the sections before it were misread).");
            }

            int version = reader.ReadInt32();
            if (version != StateVersion)
            {
                throw new InvalidDataException($"SLO monitor state version {version} is not supported (this build reads {StateVersion}).");
            }

            if (CompareLayout(reader) is { } difference)
            {
                if (skipOtherLayout)
                {
                    return false;
                }

                throw new InvalidDataException($"The SLO monitor state does not fit this monitor: {difference}.");
            }

            _closedBefore = reader.ReadInt64();
            LateSpans = reader.ReadInt64();
            LateShares = reader.ReadInt64();
            RejectedShares = reader.ReadInt64();
            foreach (var state in _states)
            {
                state.Load(reader, _options.BucketWidthMs);
            }

            int buckets = reader.ReadInt32();
            if (buckets < 0 || buckets > reader.BaseStream.Length - reader.BaseStream.Position)
            {
                throw new InvalidDataException($"The SLO monitor state claims {buckets} buckets of held shares (corrupt).");
            }

            for (int i = 0; i < buckets; i++)
            {
                long bucket = reader.ReadInt64();
                int n = reader.ReadInt32();
                if (n < 0 || n > reader.BaseStream.Length - reader.BaseStream.Position)
                {
                    throw new InvalidDataException($"The SLO monitor state claims {n} held shares in bucket {bucket} (corrupt).");
                }

                var shares = new Dictionary<ShareKey, SloCounts>(n);
                for (int j = 0; j < n; j++)
                {
                    int source = reader.ReadInt32();
                    int objective = reader.ReadInt32();
                    if (objective < 0 || objective >= _states.Count)
                    {
                        throw new InvalidDataException($"The SLO monitor state holds a share of objective {objective} of {_states.Count} (corrupt).");
                    }

                    shares[new ShareKey(source, objective)] = new SloCounts(reader.ReadInt64(), reader.ReadInt64());
                }

                _pending[bucket] = shares;
            }

            uint end = reader.ReadUInt32();
            if (end != ~StateMagic)
            {
                throw new InvalidDataException("The SLO monitor state does not end where its content does (corrupt, or written by another layout).");
            }

            return true;
        }
        catch (InvalidDataException)
        {
            Clear();
            throw;
        }
        catch (EndOfStreamException e)
        {
            Clear();
            throw new InvalidDataException("The SLO monitor state is truncated.", e);
        }
        catch (FormatException e)
        {
            Clear();
            throw new InvalidDataException($"The SLO monitor state is corrupt: {e.Message}", e);
        }
    }

    private void Clear()
    {
        foreach (var state in _states)
        {
            state.Reset();
        }

        _pending.Clear();
        _closedBefore = long.MinValue;
        LateSpans = 0;
        LateShares = 0;
        RejectedShares = 0;
    }

    private readonly record struct ShareKey(int Source, int Objective) : IComparable<ShareKey>
    {
        public int CompareTo(ShareKey other)
        {
            int c = Source.CompareTo(other.Source);
            return c != 0 ? c : Objective.CompareTo(other.Objective);
        }
    }

    private readonly record struct SloCounts(long Bad, long Total);

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

        /// <summary>
        /// The buckets that counted a request, in slot order (an empty slot behaves as one that
        /// counted nothing), then the windows' sums and the rules' firing starts.
        /// </summary>
        public void Save(BinaryWriter writer)
        {
            int counted = 0;
            foreach (var cell in _ring)
            {
                counted += cell.Start != long.MinValue && cell.Total > 0 ? 1 : 0;
            }

            writer.Write(counted);
            foreach (var cell in _ring)
            {
                if (cell.Start != long.MinValue && cell.Total > 0)
                {
                    writer.Write(cell.Start);
                    writer.Write(cell.Bad);
                    writer.Write(cell.Total);
                }
            }

            WriteAll(writer, Bad);
            WriteAll(writer, Total);
            WriteAll(writer, FiringSince);
        }

        public void Load(BinaryReader reader, long width)
        {
            int counted = reader.ReadInt32();
            if (counted < 0 || counted > _ring.Length)
            {
                throw new InvalidDataException($"The SLO monitor state of {Definition.Name} claims {counted} buckets in a ring of {_ring.Length} (corrupt).");
            }

            for (int i = 0; i < counted; i++)
            {
                var cell = new SloCell { Start = reader.ReadInt64(), Bad = reader.ReadInt64(), Total = reader.ReadInt64() };
                if (cell.Start == long.MinValue || cell.Bad < 0 || cell.Total < cell.Bad)
                {
                    throw new InvalidDataException($"The SLO monitor state of {Definition.Name} has an impossible bucket ({cell.Bad} bad of {cell.Total}) (corrupt).");
                }

                Cell(cell.Start, width) = cell;
            }

            ReadAll(reader, Bad);
            ReadAll(reader, Total);
            ReadAll(reader, FiringSince);
        }

        private static void WriteAll(BinaryWriter writer, long[] values)
        {
            foreach (long value in values)
            {
                writer.Write(value);
            }
        }

        private static void ReadAll(BinaryReader reader, long[] values)
        {
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = reader.ReadInt64();
            }
        }
    }
}
