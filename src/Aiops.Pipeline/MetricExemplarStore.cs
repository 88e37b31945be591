using System.Globalization;
using Aiops.Core;
using Aiops.Topology;

namespace Aiops.Pipeline;

/// <summary>
/// The latest exemplars (trace ids sampled by the instrumentation, carried on OTLP metric data
/// points) of each resource-metric series, so a verdict on that series can point at traces, the
/// way RED verdicts get theirs from the span aggregation's buckets
/// (<see cref="Aiops.Topology.SpanAggregator.GetExemplarTraceIds"/>).
/// </summary>
/// <remarks>
/// <para>Bounded twice: <see cref="PerSeries"/> exemplars per series in a ring (the oldest
/// overwritten), and at most <see cref="MaxSeries"/> series, the series that got its first
/// exemplar longest ago evicted first (a FIFO of keys: O(1), no per-exemplar bookkeeping; an
/// evicted series that is still reporting comes back with its next exemplar). Worst case
/// 16,384 × 8 × 24 B ≈ 3 MB of entries plus the keys.</para>
/// <para>Public so a driver that runs detection stages itself (the worker's repartitioned ingest)
/// can keep one per stage and chain it before the stage's own lookup with <see cref="OrElse"/>.</para>
/// <para>Checkpointed with the ingest stage (<see cref="SaveState"/>): a verdict confirmed after a
/// restart still names the trace ids of exemplars read before it. Not thread-safe, like the pipeline.</para>
/// </remarks>
public sealed class MetricExemplarStore
{
    /// <summary>
    /// Exemplars kept per series. A verdict is held until its episode is confirmed (a few points,
    /// see <see cref="PipelineOptions.ConfirmPoints"/>) before the correlator asks for its
    /// exemplars; with one or two exemplars per point, 8 still holds those of the verdict's point.
    /// </summary>
    public const int PerSeries = 8;

    /// <summary>Series with exemplars kept; exemplars are sampled on a small share of series (histogram tails), so this is far above what a deployment needs.</summary>
    public const int MaxSeries = 16_384;

    /// <summary>
    /// How far (either way) an exemplar's time may be from the verdict's point: 60 s, the OTLP
    /// SDKs' default export interval, within which the exemplars of one data point were recorded.
    /// </summary>
    public const long MatchWindowMs = 60_000;

    /// <summary>Trace ids returned per verdict: the root-cause ranking keeps 5 per candidate.</summary>
    public const int MaxTraceIds = 5;

    private const uint StateMagic = 0x58454D41; // "AMEX"
    private const int StateVersion = 1;

    private readonly Dictionary<SeriesKey, Ring> _bySeries = [];
    private readonly Queue<SeriesKey> _arrival = new();

    /// <summary>Series with exemplars.</summary>
    public int Count => _bySeries.Count;

    /// <summary>Series dropped to stay under <see cref="MaxSeries"/>.</summary>
    public long Evicted { get; private set; }

    /// <summary>Keeps one exemplar; a zero trace id (an exemplar without a trace) is ignored.</summary>
    public void Add(SeriesKey series, long timestampMs, UInt128 traceId)
    {
        if (traceId == UInt128.Zero)
        {
            return;
        }

        if (!_bySeries.TryGetValue(series, out var ring))
        {
            if (_bySeries.Count >= MaxSeries)
            {
                _bySeries.Remove(_arrival.Dequeue());
                Evicted++;
            }

            ring = new Ring();
            _bySeries.Add(series, ring);
            _arrival.Enqueue(series);
        }

        ring.Add(timestampMs, traceId);
    }

    /// <summary>
    /// Trace ids (32 lower-case hex digits, newest first, no repeats, at most
    /// <see cref="MaxTraceIds"/>) of the exemplars of <paramref name="series"/> within
    /// <see cref="MatchWindowMs"/> of <paramref name="timestampMs"/>; empty when there are none.
    /// </summary>
    public IReadOnlyList<string> TraceIdsNear(SeriesKey series, long timestampMs)
    {
        if (!_bySeries.TryGetValue(series, out var ring))
        {
            return [];
        }

        List<string>? ids = null;
        for (var back = 0; back < ring.Count && (ids is null || ids.Count < MaxTraceIds); back++)
        {
            var (time, trace) = ring.Newest(back);
            if (Math.Abs(time - timestampMs) > MatchWindowMs)
            {
                continue;
            }

            var hex = trace.ToString("x32", CultureInfo.InvariantCulture);
            ids ??= new List<string>(MaxTraceIds);
            if (!ids.Contains(hex))
            {
                ids.Add(hex);
            }
        }

        return ids is null ? [] : ids;
    }

    /// <summary>
    /// A lookup for <see cref="Aiops.Topology.IncidentCorrelator"/>: this store's trace ids for the
    /// series, or <paramref name="fallback"/>'s when it has none (RED series get theirs from spans).
    /// </summary>
    public Func<SeriesKey, long, IReadOnlyList<string>> OrElse(Func<SeriesKey, long, IReadOnlyList<string>> fallback)
    {
        ArgumentNullException.ThrowIfNull(fallback);
        return (series, timestampMs) =>
        {
            var ids = TraceIdsNear(series, timestampMs);
            return ids.Count > 0 ? ids : fallback(series, timestampMs);
        };
    }

    /// <summary>
    /// Writes the store for a checkpoint: the eviction count, then every series in arrival order
    /// (the eviction order) with its exemplars newest first. At most 16,384 series × 8 exemplars ×
    /// 24 B ≈ 3 MB plus the keys; O(state), never per record.
    /// </summary>
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        StateFraming.WriteHeader(writer, StateMagic, StateVersion);
        writer.Write(Evicted);
        writer.Write(_arrival.Count);
        foreach (var series in _arrival)
        {
            var ring = _bySeries[series];
            StateFraming.WriteSeries(writer, series);
            writer.Write(ring.Count);
            for (var back = 0; back < ring.Count; back++)
            {
                var (time, trace) = ring.Newest(back);
                writer.Write(time);
                StateFraming.WriteId(writer, trace);
            }
        }

        StateFraming.WriteEnd(writer, StateMagic);
    }

    /// <summary>
    /// Loads what <see cref="SaveState"/> wrote into this empty store; throws
    /// <see cref="InvalidDataException"/> naming the metric exemplar state when it is foreign,
    /// newer, truncated or over the bounds.
    /// </summary>
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (_bySeries.Count > 0)
        {
            throw new InvalidOperationException("State can only be loaded into an empty exemplar store.");
        }

        StateFraming.Read(reader, StateMagic, StateVersion, "metric exemplar state", r =>
        {
            Evicted = r.ReadInt64();
            var series = StateFraming.ReadCount(r, MaxSeries, "exemplar series");
            for (var i = 0; i < series; i++)
            {
                var key = StateFraming.ReadSeries(r);
                var count = StateFraming.ReadCount(r, PerSeries, "exemplar");
                var times = new long[count];
                var traces = new UInt128[count];
                for (var back = 0; back < count; back++)
                {
                    times[back] = r.ReadInt64();
                    traces[back] = StateFraming.ReadId(r);
                }

                var ring = new Ring();
                for (var back = count - 1; back >= 0; back--)
                {
                    ring.Add(times[back], traces[back]);
                }

                _bySeries.Add(key, ring);
                _arrival.Enqueue(key);
            }
        });
    }

    /// <summary>A fixed ring of the latest <see cref="PerSeries"/> exemplars of one series, allocated once.</summary>
    private sealed class Ring
    {
        private readonly long[] _times = new long[PerSeries];
        private readonly UInt128[] _traces = new UInt128[PerSeries];
        private int _next;

        public int Count { get; private set; }

        public void Add(long timestampMs, UInt128 traceId)
        {
            _times[_next] = timestampMs;
            _traces[_next] = traceId;
            _next = (_next + 1) % PerSeries;
            Count = Math.Min(Count + 1, PerSeries);
        }

        /// <summary>The exemplar <paramref name="back"/> places before the newest (0: the newest).</summary>
        public (long TimestampMs, UInt128 TraceId) Newest(int back)
        {
            var index = (_next - 1 - back + (2 * PerSeries)) % PerSeries;
            return (_times[index], _traces[index]);
        }
    }
}
