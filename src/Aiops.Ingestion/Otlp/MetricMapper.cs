using System.Runtime.CompilerServices;
using Aiops.Core;
using Aiops.Ingestion.Text;

namespace Aiops.Ingestion.Otlp;

/// <summary>What the wire decoder knows of the metric a data point belongs to.</summary>
internal struct MetricInfo
{
    public string Service;
    public string Name;
    public string Unit;
    public MetricKind? KindHint;
}

/// <summary>
/// Turns OTLP data points (already read off the wire, protobuf or JSON) into
/// <see cref="MetricPoint"/>s, keeping the per-series state that cumulative temporality needs.
/// <list type="bullet">
/// <item>gauge → the value (non-monotonic cumulative sums, i.e. up-down counters, too: their value
///   is a level, and a decrease is not a reset).</item>
/// <item>delta sum → increase / interval seconds (interval = time − start; without a start time, the
///   gap since the series' previous point; the very first such point only primes).</item>
/// <item>cumulative monotonic sum → (value − previous) / seconds since the previous point. The first
///   point of a series only primes state. A reset (start time changed, or value decreased) is
///   counted in <see cref="DecodeBatch.Resets"/>; the counter restarted from zero, so the increase is
///   the new value, over time − start when the start is known, else since the previous point.</item>
/// <item>histogram / exponential histogram → <c>name.p50</c>, <c>name.p95</c>, <c>name.p99</c>
///   (<see cref="HistogramQuantiles"/>) of the interval's observations and <c>name.rate</c>
///   (observations per second, Throughput). Cumulative points use the difference of bucket counts
///   with the previous point (same reset rules; a changed bucket layout re-primes; a lower
///   exponential scale is handled by merging the previous buckets down to it). Quantiles are
///   skipped for an interval with no observations.</item>
/// </list>
/// Kinds and unit conversion follow <see cref="MetricKindRules"/>. Exemplars are attached to the
/// point's series (to <c>name.p99</c> for histograms).
/// </summary>
internal sealed class MetricMapper
{
    private const int MaxCachedNames = 65_536;

    private readonly DecodeOptions _options;
    private readonly Dictionary<SeriesKey, SeriesState> _state = new();
    private readonly Dictionary<(string Name, string Unit, bool Monotonic), (MetricKind Kind, double Scale)> _kinds = new(KindKeyComparer.Instance);
    private readonly Dictionary<string, string[]> _derived = new(ReferenceEqualityComparer.Instance);
    private ulong[] _delta = new ulong[64];
    private ulong[] _delta2 = new ulong[64];
    private ulong[] _rebucket = new ulong[64];

    public MetricMapper(DecodeOptions options)
    {
        _options = options;
        Timestamps = new TimestampGuard(options);
    }

    public TimestampGuard Timestamps { get; }

    /// <summary>Exemplars of the data point being mapped; the wire decoder fills them, the mapper consumes and clears them.</summary>
    public ExemplarData[] Exemplars = new ExemplarData[8];

    public int ExemplarCount;

    public int SeriesCount => _state.Count;

    public void AddExemplar(in ExemplarData e)
    {
        if (ExemplarCount == Exemplars.Length)
        {
            if (ExemplarCount >= 256)
            {
                return; // keep the first 256 exemplars of a point; more add no evidence
            }

            Array.Resize(ref Exemplars, Exemplars.Length * 2);
        }

        Exemplars[ExemplarCount++] = e;
    }

    /// <summary>Validates a data point's time; on failure records an error and returns false.</summary>
    public bool CheckTime(long timeNanos, in MetricInfo m, DecodeBatch batch, long position, out long ms)
    {
        ms = timeNanos / 1_000_000;
        if (timeNanos <= 0)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.MissingField, $"metric '{m.Name}' of service '{m.Service}': data point has no time_unix_nano", position));
            return false;
        }

        string? reason = Timestamps.Check(ms);
        if (reason is not null)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.TimestampOutOfRange, $"metric '{m.Name}' of service '{m.Service}': {reason}", position));
            return false;
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public (MetricKind Kind, double Scale) KindOf(in MetricInfo m, bool monotonic)
    {
        if (m.KindHint is { } hint)
        {
            return (hint, 1);
        }

        var key = (m.Name, m.Unit, monotonic);
        if (_kinds.TryGetValue(key, out var found))
        {
            return found;
        }

        if (_kinds.Count >= MaxCachedNames)
        {
            _kinds.Clear();
        }

        found = MetricKindRules.Infer(m.Name, m.Unit, monotonic);
        _kinds[key] = found;
        return found;
    }

    public void Gauge(in MetricInfo m, string labels, long timeNanos, double value, double total, DecodeBatch batch, long position)
    {
        if (!FiniteOrError(value, m, batch, position) || !CheckTime(timeNanos, m, batch, position, out long ms))
        {
            ExemplarCount = 0;
            return;
        }

        var (kind, scale) = KindOf(m, monotonic: false);
        var series = new SeriesKey(m.Service, m.Name, labels);
        batch.Metrics.Add(new MetricPoint(series, kind, ms, value * scale, total));
        EmitExemplars(series, scale, ms, batch);
    }

    public void Sum(in MetricInfo m, string labels, long startNanos, long timeNanos, double value, bool monotonic, Temporality temporality, DecodeBatch batch, long position)
    {
        if (temporality == Temporality.Cumulative && !monotonic)
        {
            Gauge(m, labels, timeNanos, value, 0, batch, position);
            return;
        }

        if (!FiniteOrError(value, m, batch, position) || !CheckTime(timeNanos, m, batch, position, out long ms))
        {
            ExemplarCount = 0;
            return;
        }

        var series = new SeriesKey(m.Service, m.Name, labels);
        var (kind, scale) = KindOf(m, monotonic);
        double increase;
        long intervalNanos;
        if (temporality == Temporality.Delta)
        {
            if (startNanos > 0 && startNanos < timeNanos)
            {
                intervalNanos = timeNanos - startNanos;
            }
            else
            {
                // No usable start time: measure the interval from the series' previous point.
                SeriesState? s = GetState(series, m, batch, position, out bool created);
                if (s is null)
                {
                    ExemplarCount = 0;
                    return;
                }

                long last = s.LastTimeNanos;
                s.LastTimeNanos = timeNanos;
                if (created || timeNanos <= last)
                {
                    batch.Primed++;
                    ExemplarCount = 0;
                    return;
                }

                intervalNanos = timeNanos - last;
            }

            increase = value;
        }
        else
        {
            SeriesState? s = GetState(series, m, batch, position, out bool created);
            if (s is null)
            {
                ExemplarCount = 0;
                return;
            }

            if (created)
            {
                s.Prime(startNanos, timeNanos, value);
                batch.Primed++;
                ExemplarCount = 0;
                return;
            }

            if (timeNanos <= s.LastTimeNanos)
            {
                StaleOrDuplicate(s, timeNanos, m, batch, position);
                return;
            }

            bool reset = (startNanos != 0 && s.StartNanos != 0 && startNanos != s.StartNanos) || value < s.LastValue;
            if (reset)
            {
                batch.Resets++;
                increase = value;
                intervalNanos = startNanos > 0 && startNanos < timeNanos && startNanos >= s.LastTimeNanos ? timeNanos - startNanos : timeNanos - s.LastTimeNanos;
            }
            else
            {
                increase = value - s.LastValue;
                intervalNanos = timeNanos - s.LastTimeNanos;
            }

            s.Prime(startNanos, timeNanos, value);
        }

        double rate = increase * scale / (intervalNanos / 1e9);
        batch.Metrics.Add(new MetricPoint(series, kind, ms, rate));
        EmitExemplars(series, scale, ms, batch);
    }

    public void Histogram(in MetricInfo m, string labels, HistogramData h, Temporality temporality, bool exponential, DecodeBatch batch, long position)
    {
        if (!CheckTime(h.TimeNanos, m, batch, position, out long ms))
        {
            ExemplarCount = 0;
            return;
        }

        if ((!double.IsNaN(h.Min) && !double.IsFinite(h.Min)) || (!double.IsNaN(h.Max) && !double.IsFinite(h.Max)) || !double.IsFinite(h.Sum))
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.NonFiniteValue, $"histogram '{m.Name}' of service '{m.Service}': sum, min or max is not finite", position));
            ExemplarCount = 0;
            return;
        }

        if (!exponential && h.CountCount != 0 && h.CountCount != h.BoundCount + 1)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.InvalidValue, $"histogram '{m.Name}' of service '{m.Service}': {h.CountCount} bucket counts for {h.BoundCount} bounds (expected bounds + 1)", position));
            ExemplarCount = 0;
            return;
        }

        var baseSeries = new SeriesKey(m.Service, m.Name, labels);
        long intervalNanos;
        double min = h.Min, max = h.Max;
        ReadOnlySpan<ulong> counts = h.Counts.AsSpan(0, h.CountCount);
        ReadOnlySpan<ulong> pos = h.Positive.AsSpan(0, h.PositiveCount);
        ReadOnlySpan<ulong> neg = h.Negative.AsSpan(0, h.NegativeCount);
        ulong zero = h.ZeroCount;
        int posOffset = h.PositiveOffset, negOffset = h.NegativeOffset;
        ulong deltaCount;

        if (temporality == Temporality.Delta)
        {
            if (h.StartNanos <= 0 || h.StartNanos >= h.TimeNanos)
            {
                batch.Errors.Add(new DecodeError(DecodeErrorKind.MissingField, $"delta histogram '{m.Name}' of service '{m.Service}': no valid start_time_unix_nano, the rate needs the interval", position));
                ExemplarCount = 0;
                return;
            }

            intervalNanos = h.TimeNanos - h.StartNanos;
            deltaCount = h.Count;
        }
        else
        {
            // min/max describe the whole cumulative range, not this interval: unusable for the delta.
            min = max = double.NaN;
            SeriesState? s = GetState(baseSeries, m, batch, position, out bool created);
            if (s is null)
            {
                ExemplarCount = 0;
                return;
            }

            bool layoutChanged = !created && (exponential ? h.Scale > s.Scale : !s.SameBounds(h));
            if (created || layoutChanged)
            {
                s.PrimeHistogram(h, exponential);
                batch.Primed++;
                ExemplarCount = 0;
                return;
            }

            if (h.TimeNanos <= s.LastTimeNanos)
            {
                StaleOrDuplicate(s, h.TimeNanos, m, batch, position);
                return;
            }

            bool reset = (h.StartNanos != 0 && s.StartNanos != 0 && h.StartNanos != s.StartNanos) || h.Count < s.LastCount;
            if (!reset)
            {
                if (exponential)
                {
                    reset = h.ZeroCount < s.ZeroCount || !SubtractExponential(h, s, out pos, out neg);
                    zero = reset ? zero : h.ZeroCount - s.ZeroCount;
                }
                else
                {
                    reset = !Subtract(counts, s.Counts.AsSpan(0, s.CountLength), out counts);
                }
            }

            if (reset)
            {
                batch.Resets++;
                counts = h.Counts.AsSpan(0, h.CountCount);
                pos = h.Positive.AsSpan(0, h.PositiveCount);
                neg = h.Negative.AsSpan(0, h.NegativeCount);
                zero = h.ZeroCount;
                deltaCount = h.Count;
                intervalNanos = h.StartNanos > 0 && h.StartNanos < h.TimeNanos && h.StartNanos >= s.LastTimeNanos ? h.TimeNanos - h.StartNanos : h.TimeNanos - s.LastTimeNanos;
            }
            else
            {
                deltaCount = h.Count - s.LastCount;
                intervalNanos = h.TimeNanos - s.LastTimeNanos;
            }

            s.PrimeHistogram(h, exponential);
        }

        string[] names = DerivedNames(m.Name);
        var (kind, scale) = KindOf(m, monotonic: false);
        var rateSeries = new SeriesKey(m.Service, names[3], labels);
        batch.Metrics.Add(new MetricPoint(rateSeries, MetricKind.Throughput, ms, deltaCount / (intervalNanos / 1e9)));

        var p99Series = new SeriesKey(m.Service, names[2], labels);
        if (deltaCount > 0)
        {
            ReadOnlySpan<double> bounds = h.Bounds.AsSpan(0, h.BoundCount);
            for (int i = 0; i < 3; i++)
            {
                double q = i switch { 0 => 0.50, 1 => 0.95, _ => 0.99 };
                double v = exponential
                    ? HistogramQuantiles.Exponential(h.Scale, zero, posOffset, pos, negOffset, neg, q, min, max)
                    : HistogramQuantiles.Explicit(bounds, counts, q, min, max);
                if (double.IsFinite(v))
                {
                    batch.Metrics.Add(new MetricPoint(i == 2 ? p99Series : new SeriesKey(m.Service, names[i], labels), kind, ms, v * scale));
                }
            }
        }

        EmitExemplars(p99Series, scale, ms, batch);
    }

    private bool Subtract(ReadOnlySpan<ulong> current, ReadOnlySpan<ulong> previous, out ReadOnlySpan<ulong> delta)
    {
        if (_delta.Length < current.Length)
        {
            _delta = new ulong[Math.Max(current.Length, _delta.Length * 2)];
        }

        for (int i = 0; i < current.Length; i++)
        {
            if (current[i] < previous[i])
            {
                delta = default;
                return false;
            }

            _delta[i] = current[i] - previous[i];
        }

        delta = _delta.AsSpan(0, current.Length);
        return true;
    }

    private bool SubtractExponential(HistogramData h, SeriesState s, out ReadOnlySpan<ulong> pos, out ReadOnlySpan<ulong> neg)
    {
        int shift = s.Scale - h.Scale; // >= 0: the scale can only go down between cumulative points
        bool ok = SubtractBuckets(h.PositiveOffset, h.Positive.AsSpan(0, h.PositiveCount), s.PositiveOffset, s.Positive.AsSpan(0, s.PositiveLength), shift, ref _delta, out pos);
        ok &= SubtractBuckets(h.NegativeOffset, h.Negative.AsSpan(0, h.NegativeCount), s.NegativeOffset, s.Negative.AsSpan(0, s.NegativeLength), shift, ref _delta2, out neg);
        return ok;
    }

    private bool SubtractBuckets(int offset, ReadOnlySpan<ulong> current, int previousOffset, ReadOnlySpan<ulong> previous, int shift, ref ulong[] delta, out ReadOnlySpan<ulong> result)
    {
        if (delta.Length < current.Length)
        {
            delta = new ulong[Math.Max(current.Length, delta.Length * 2)];
        }

        // Merge the previous buckets down to the current scale: index i at scale s is inside
        // index i >> (s - s') at the lower scale s' (the boundaries nest, spec "Exponential Scale").
        if (shift > 0 && previous.Length > 0)
        {
            int first = previousOffset >> shift;
            int last = (previousOffset + previous.Length - 1) >> shift;
            int n = last - first + 1;
            if (_rebucket.Length < n)
            {
                _rebucket = new ulong[Math.Max(n, _rebucket.Length * 2)];
            }

            Array.Clear(_rebucket, 0, n);
            for (int k = 0; k < previous.Length; k++)
            {
                _rebucket[((previousOffset + k) >> shift) - first] += previous[k];
            }

            previous = _rebucket.AsSpan(0, n);
            previousOffset = first;
        }

        ulong previousTotal = 0;
        ulong covered = 0;
        for (int k = 0; k < previous.Length; k++)
        {
            previousTotal += previous[k];
        }

        for (int k = 0; k < current.Length; k++)
        {
            int p = offset + k - previousOffset;
            ulong prev = p >= 0 && p < previous.Length ? previous[p] : 0;
            covered += prev;
            if (current[k] < prev)
            {
                result = default;
                return false;
            }

            delta[k] = current[k] - prev;
        }

        result = delta.AsSpan(0, current.Length);

        // A previous bucket outside the current range means counts disappeared: a reset.
        return covered == previousTotal;
    }

    private void StaleOrDuplicate(SeriesState s, long timeNanos, in MetricInfo m, DecodeBatch batch, long position)
    {
        ExemplarCount = 0;
        if (timeNanos == s.LastTimeNanos)
        {
            batch.Primed++; // a redelivered point (at-least-once): nothing new
            return;
        }

        batch.Errors.Add(new DecodeError(DecodeErrorKind.TimestampOutOfRange, $"metric '{m.Name}' of service '{m.Service}': cumulative point at {timeNanos} ns is older than the series' previous point at {s.LastTimeNanos} ns", position));
    }

    private SeriesState? GetState(SeriesKey series, in MetricInfo m, DecodeBatch batch, long position, out bool created)
    {
        ref SeriesState? slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_state, series, out bool exists);
        created = !exists;
        if (exists)
        {
            return slot;
        }

        if (_state.Count > _options.MaxCumulativeSeries)
        {
            _state.Remove(series);
            batch.Errors.Add(new DecodeError(DecodeErrorKind.SeriesLimitExceeded, $"metric '{m.Name}' of service '{m.Service}': already tracking {_options.MaxCumulativeSeries} cumulative series", position));
            return null;
        }

        slot = new SeriesState();
        return slot;
    }

    private static bool FiniteOrError(double value, in MetricInfo m, DecodeBatch batch, long position)
    {
        if (double.IsFinite(value))
        {
            return true;
        }

        batch.Errors.Add(new DecodeError(DecodeErrorKind.NonFiniteValue, $"metric '{m.Name}' of service '{m.Service}': value is {value}", position));
        return false;
    }

    private string[] DerivedNames(string name)
    {
        if (_derived.TryGetValue(name, out string[]? names))
        {
            return names;
        }

        if (_derived.Count >= MaxCachedNames)
        {
            _derived.Clear();
        }

        names = [name + ".p50", name + ".p95", name + ".p99", name + ".rate"];
        _derived[name] = names;
        return names;
    }

    private void EmitExemplars(SeriesKey series, double scale, long pointMs, DecodeBatch batch)
    {
        for (int i = 0; i < ExemplarCount; i++)
        {
            ref ExemplarData e = ref Exemplars[i];
            long ms = e.TimeNanos > 0 ? e.TimeNanos / 1_000_000 : pointMs;
            batch.Exemplars.Add(new MetricExemplar(series, ms, e.Value * scale, e.TraceId, e.SpanId));
        }

        ExemplarCount = 0;
    }

    private sealed class SeriesState
    {
        public long StartNanos;
        public long LastTimeNanos;
        public double LastValue;
        public ulong LastCount;
        public double[] Bounds = [];
        public ulong[] Counts = [];
        public int CountLength;
        public int Scale;
        public ulong ZeroCount;
        public int PositiveOffset;
        public ulong[] Positive = [];
        public int PositiveLength;
        public int NegativeOffset;
        public ulong[] Negative = [];
        public int NegativeLength;

        public void Prime(long start, long time, double value)
        {
            StartNanos = start;
            LastTimeNanos = time;
            LastValue = value;
        }

        public bool SameBounds(HistogramData h) =>
            Bounds.Length == h.BoundCount && h.Bounds.AsSpan(0, h.BoundCount).SequenceEqual(Bounds) && CountLength == h.CountCount;

        public void PrimeHistogram(HistogramData h, bool exponential)
        {
            StartNanos = h.StartNanos;
            LastTimeNanos = h.TimeNanos;
            LastCount = h.Count;
            if (exponential)
            {
                Scale = h.Scale;
                ZeroCount = h.ZeroCount;
                PositiveOffset = h.PositiveOffset;
                Copy(h.Positive, h.PositiveCount, ref Positive, ref PositiveLength);
                NegativeOffset = h.NegativeOffset;
                Copy(h.Negative, h.NegativeCount, ref Negative, ref NegativeLength);
            }
            else
            {
                if (!SameBounds(h))
                {
                    Bounds = h.Bounds.AsSpan(0, h.BoundCount).ToArray();
                }

                Copy(h.Counts, h.CountCount, ref Counts, ref CountLength);
            }
        }

        private static void Copy(ulong[] from, int count, ref ulong[] to, ref int length)
        {
            if (to.Length < count)
            {
                to = new ulong[count];
            }

            Array.Copy(from, to, count);
            length = count;
        }
    }

    private sealed class KindKeyComparer : IEqualityComparer<(string Name, string Unit, bool Monotonic)>
    {
        public static readonly KindKeyComparer Instance = new();

        // Names and units come from the intern cache, so reference equality is the fast path; an
        // evicted-and-recreated string only costs a second cache entry.
        public bool Equals((string Name, string Unit, bool Monotonic) x, (string Name, string Unit, bool Monotonic) y) =>
            ReferenceEquals(x.Name, y.Name) && ReferenceEquals(x.Unit, y.Unit) && x.Monotonic == y.Monotonic;

        public int GetHashCode((string Name, string Unit, bool Monotonic) obj) =>
            HashCode.Combine(RuntimeHelpers.GetHashCode(obj.Name), RuntimeHelpers.GetHashCode(obj.Unit), obj.Monotonic);
    }
}
