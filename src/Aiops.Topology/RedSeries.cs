using Aiops.Core;

namespace Aiops.Topology;

/// <summary>What a RED series aggregates.</summary>
internal enum RedScope : byte
{
    Service,
    Operation,
    Instance,
    Edge,
}

/// <summary>One open event-time bucket of a RED series: counts, latency sketch, exemplars.</summary>
internal sealed class RedBucket
{
    public const long Empty = long.MinValue;

    public RedBucket(double relativeAccuracy) => Sketch = new LatencySketch(relativeAccuracy);

    public long Start { get; set; } = Empty;

    public long Count { get; set; }

    public long Errors { get; set; }

    /// <summary>The bucket's latency sketch; swapped with a <see cref="RedWindow"/> slot on close (no copy, no allocation).</summary>
    public LatencySketch Sketch { get; set; }

    public UInt128 SlowestTrace { get; set; }

    public double SlowestMs { get; set; } = -1;

    public UInt128 FailedTrace0 { get; set; }

    public UInt128 FailedTrace1 { get; set; }

    public int FailedCount { get; set; }

    /// <summary>
    /// Keeps the slowest request as exemplar; on a tie the smaller trace id, so the choice depends on
    /// the set of requests, not on their order (partials from several partitions merge to the same).
    /// </summary>
    public void OfferSlowest(UInt128 traceId, double durationMs)
    {
        if (durationMs > SlowestMs || (durationMs == SlowestMs && traceId < SlowestTrace))
        {
            SlowestMs = durationMs;
            SlowestTrace = traceId;
        }
    }

    /// <summary>Keeps the two smallest distinct failed trace ids (order-independent, like <see cref="OfferSlowest"/>).</summary>
    public void OfferFailed(UInt128 traceId)
    {
        if (FailedCount == 0)
        {
            FailedTrace0 = traceId;
            FailedCount = 1;
        }
        else if (traceId == FailedTrace0 || (FailedCount == 2 && traceId == FailedTrace1))
        {
            return;
        }
        else if (traceId < FailedTrace0)
        {
            FailedTrace1 = FailedTrace0;
            FailedTrace0 = traceId;
            FailedCount = 2;
        }
        else if (FailedCount == 1 || traceId < FailedTrace1)
        {
            FailedTrace1 = traceId;
            FailedCount = 2;
        }
    }

    public void Reset(long start)
    {
        Start = start;
        Count = 0;
        Errors = 0;
        Sketch.Clear();
        SlowestTrace = 0;
        SlowestMs = -1;
        FailedTrace0 = 0;
        FailedTrace1 = 0;
        FailedCount = 0;
    }
}

/// <summary>
/// The closed buckets a low-traffic series' points are computed over (see
/// <see cref="TopologyOptions.MinWindowRequests"/>): a ring of the latest closed buckets' counts,
/// errors and sketches. Created only when a bucket of the series first falls under the minimum,
/// so busy series never pay for it; the sketches are swapped with the closing bucket's, so in
/// steady state a close allocates nothing.
/// </summary>
internal sealed class RedWindow
{
    private readonly long[] _starts;
    private readonly long[] _counts;
    private readonly long[] _errors;
    private readonly LatencySketch[] _sketches;
    private int _next;

    public RedWindow(int capacity, double accuracy)
    {
        _starts = new long[capacity];
        _counts = new long[capacity];
        _errors = new long[capacity];
        _sketches = new LatencySketch[capacity];
        for (int i = 0; i < capacity; i++)
        {
            _starts[i] = RedBucket.Empty;
            _sketches[i] = new LatencySketch(accuracy);
        }
    }

    /// <summary>
    /// Adds to <paramref name="count"/>, <paramref name="errors"/> and <paramref name="merged"/> the
    /// kept buckets from <paramref name="from"/> (inclusive) to <paramref name="before"/>, newest
    /// first, until <paramref name="count"/> reaches <paramref name="minCount"/>.
    /// </summary>
    /// <returns>The start of the oldest bucket taken in; <paramref name="before"/> when none was.</returns>
    public long Extend(long from, long before, long minCount, ref long count, ref long errors, LatencySketch merged)
    {
        long oldest = before;
        int n = _starts.Length;
        for (int k = 1; k <= n && count < minCount; k++)
        {
            int i = (_next - k + n) % n;
            long start = _starts[i];
            if (start == RedBucket.Empty || start < from || start >= before || _counts[i] == 0)
            {
                continue;
            }

            count += _counts[i];
            errors += _errors[i];
            merged.Merge(_sketches[i]);
            oldest = Math.Min(oldest, start);
        }

        return oldest;
    }

    /// <summary>Keeps a closed bucket: takes its sketch and gives the bucket the oldest kept one (cleared by the bucket's reset).</summary>
    public void Keep(RedBucket bucket)
    {
        int i = _next;
        _starts[i] = bucket.Start;
        _counts[i] = bucket.Count;
        _errors[i] = bucket.Errors;
        (_sketches[i], bucket.Sketch) = (bucket.Sketch, _sketches[i]);
        _next = (i + 1) % _starts.Length;
    }

    /// <summary>
    /// Writes the ring for a checkpoint: the write position and every slot; a slot's sketch only
    /// when it counted requests (an empty slot keeps a stale sketch <see cref="Extend"/> never reads).
    /// </summary>
    public void WriteState(BinaryWriter writer)
    {
        writer.Write(_starts.Length);
        writer.Write(_next);
        for (int i = 0; i < _starts.Length; i++)
        {
            writer.Write(_starts[i]);
            writer.Write(_counts[i]);
            writer.Write(_errors[i]);
            if (_counts[i] != 0)
            {
                _sketches[i].WriteState(writer);
            }
        }
    }

    /// <summary>Reads a ring written by <see cref="WriteState"/> into this one (same capacity).</summary>
    public void ReadState(BinaryReader reader)
    {
        int capacity = reader.ReadInt32();
        if (capacity != _starts.Length)
        {
            throw new InvalidDataException($"A saved RED window holds {capacity} buckets; this one {_starts.Length} (TopologyOptions.MaxWindowBuckets changed).");
        }

        _next = reader.ReadInt32();
        if (_next < 0 || _next >= capacity)
        {
            throw new InvalidDataException($"A saved RED window's position {_next} is outside [0, {capacity}).");
        }

        for (int i = 0; i < capacity; i++)
        {
            _starts[i] = reader.ReadInt64();
            _counts[i] = reader.ReadInt64();
            _errors[i] = reader.ReadInt64();
            if (_counts[i] != 0)
            {
                _sketches[i].ReadState(reader);
            }
            else
            {
                _sketches[i].Clear();
            }
        }
    }

    /// <summary>Keeps an empty bucket (no sketch to swap).</summary>
    public void KeepEmpty(long start)
    {
        int i = _next;
        _starts[i] = start;
        _counts[i] = 0;
        _errors[i] = 0;
        _next = (i + 1) % _starts.Length;
    }
}

/// <summary>Exemplar trace ids kept for one closed bucket.</summary>
internal struct KeptExemplars
{
    public long Start;
    public UInt128 Slowest;
    public UInt128 Failed0;
    public UInt128 Failed1;
    public int FailedCount;
}

/// <summary>
/// The RED state of one series (a service, an operation, an instance or an edge): a small ring of
/// open buckets (allocated once, sketches reused) and a ring of the exemplars of closed buckets.
/// The five emitted <see cref="SeriesKey"/>s are built once at creation so closing a bucket
/// allocates nothing.
/// </summary>
internal sealed class RedSeries
{
    private readonly RedBucket[] _open;
    private readonly KeptExemplars[] _kept;
    private readonly long _width;
    private readonly double _accuracy;
    private readonly int _minWindowRequests;
    private readonly int _maxWindowBuckets;
    private RedWindow? _window;

    public RedSeries(RedScope scope, ServiceState owner, string? scopeKey, string labels, string node, long width, int openBuckets, int keptBuckets, double accuracy, int minWindowRequests = 1, int maxWindowBuckets = 1)
    {
        _accuracy = accuracy;
        _minWindowRequests = minWindowRequests;
        _maxWindowBuckets = maxWindowBuckets;
        Scope = scope;
        Owner = owner;
        ScopeKey = scopeKey;
        Node = node;
        _width = width;
        string service = owner.Name;
        Requests = new SeriesKey(service, RedMetrics.Requests, labels);
        Errors = new SeriesKey(service, RedMetrics.Errors, labels);
        P50 = new SeriesKey(service, RedMetrics.LatencyP50, labels);
        P95 = new SeriesKey(service, RedMetrics.LatencyP95, labels);
        P99 = new SeriesKey(service, RedMetrics.LatencyP99, labels);
        _open = new RedBucket[openBuckets];
        for (int i = 0; i < _open.Length; i++)
        {
            _open[i] = new RedBucket(accuracy);
        }

        _kept = new KeptExemplars[keptBuckets];
        for (int i = 0; i < _kept.Length; i++)
        {
            _kept[i].Start = RedBucket.Empty;
        }

        FirstBucket = RedBucket.Empty;
        LastDataBucket = RedBucket.Empty;
    }

    public RedScope Scope { get; }

    public ServiceState Owner { get; }

    /// <summary>Operation name or instance id for those scopes.</summary>
    public string? ScopeKey { get; }

    /// <summary>Graph node the series is about (callee for edges).</summary>
    public string Node { get; }

    public long EdgeKey { get; init; }

    public ServiceEdge? Edge { get; set; }

    public SeriesKey Requests { get; }

    public SeriesKey Errors { get; }

    public SeriesKey P50 { get; }

    public SeriesKey P95 { get; }

    public SeriesKey P99 { get; }

    /// <summary>Buckets the latest error ratio and quantiles were computed over (1 unless the series is quiet).</summary>
    public int WindowBuckets { get; private set; } = 1;

    public long FirstBucket { get; private set; }

    public long LastDataBucket { get; private set; }

    public int OpenCount { get; private set; }

    /// <summary>The slot for <paramref name="bucketStart"/>; the caller must close a slot holding an older bucket first.</summary>
    public RedBucket SlotFor(long bucketStart)
    {
        long n = _open.Length;
        long i = ((bucketStart / _width) % n + n) % n;
        return _open[i];
    }

    /// <summary>Adds one request to an open slot already holding <paramref name="bucketStart"/> (or empty).</summary>
    public void Add(RedBucket slot, long bucketStart, double durationMs, int sketchKey, bool error, UInt128 traceId)
    {
        Open(slot, bucketStart);

        slot.Count++;
        slot.Sketch.Add(durationMs, sketchKey);
        slot.OfferSlowest(traceId, durationMs);
        if (error)
        {
            slot.Errors++;
            slot.OfferFailed(traceId);
        }
    }

    /// <summary>
    /// Adds one partition's share of the bucket (see <see cref="RedPartial"/>) to an open slot
    /// already holding <paramref name="partial"/>'s bucket (or empty).
    /// </summary>
    public void AddPartial(RedBucket slot, RedPartial partial)
    {
        long bucketStart = partial.BucketStartMs;
        Open(slot, bucketStart);

        slot.Count += partial.Count;
        slot.Errors += partial.Errors;
        slot.Sketch.AddBins(partial.ZeroCount, partial.BinKeys, partial.BinCounts, partial.Sum, partial.Max);
        if (partial.SlowestMs >= 0)
        {
            slot.OfferSlowest(partial.SlowestTrace, partial.SlowestMs);
        }

        if (partial.FailedCount > 0)
        {
            slot.OfferFailed(partial.FailedTrace0);
        }

        if (partial.FailedCount > 1)
        {
            slot.OfferFailed(partial.FailedTrace1);
        }
    }

    /// <summary>Makes <paramref name="slot"/> hold <paramref name="bucketStart"/> and extends the series' data range to it.</summary>
    private void Open(RedBucket slot, long bucketStart)
    {
        if (slot.Start != bucketStart)
        {
            slot.Reset(bucketStart);
            OpenCount++;
        }

        if (FirstBucket == RedBucket.Empty || bucketStart < FirstBucket)
        {
            FirstBucket = bucketStart;
        }

        if (LastDataBucket == RedBucket.Empty || bucketStart > LastDataBucket)
        {
            LastDataBucket = bucketStart;
        }
    }

    /// <summary>The open slot's content as one partition's share, for the repartition topic.</summary>
    public RedPartial ToPartial(RedBucket slot)
    {
        var (keys, counts) = slot.Sketch.ExportBins();
        return new RedPartial
        {
            Service = Owner.Name,
            Scope = (RedPartialScope)Scope,
            ScopeKey = ScopeKey,
            BucketStartMs = slot.Start,
            Count = slot.Count,
            Errors = slot.Errors,
            ZeroCount = slot.Sketch.ZeroCount,
            BinKeys = keys,
            BinCounts = counts,
            Sum = slot.Sketch.Sum,
            Max = slot.Sketch.Max,
            SlowestTrace = slot.SlowestTrace,
            SlowestMs = slot.SlowestMs,
            FailedTrace0 = slot.FailedTrace0,
            FailedTrace1 = slot.FailedTrace1,
            FailedCount = slot.FailedCount,
        };
    }

    /// <summary>Frees a slot whose content left as a partial.</summary>
    public void Release(RedBucket slot)
    {
        slot.Reset(RedBucket.Empty);
        OpenCount--;
    }

    /// <summary>
    /// Emits the slot's points, keeps its exemplars, and frees it. The request rate is the
    /// bucket's own; the error ratio and the latency quantiles are over the bucket and, when it
    /// holds fewer than the window minimum of requests, the closed buckets just before it (see
    /// <see cref="TopologyOptions.MinWindowRequests"/>), merged into <paramref name="scratch"/>.
    /// </summary>
    public void Close(RedBucket slot, ICollection<MetricPoint> output, LatencySketch? scratch = null)
    {
        long start = slot.Start;
        double seconds = _width / 1000.0;
        long count = slot.Count;
        output.Add(new MetricPoint(Requests, MetricKind.Throughput, start, count / seconds));
        if (count > 0)
        {
            long windowCount = count;
            long windowErrors = slot.Errors;
            var sketch = slot.Sketch;
            if (count < _minWindowRequests && _maxWindowBuckets > 1 && scratch is not null)
            {
                _window ??= new RedWindow(_maxWindowBuckets - 1, _accuracy);
                scratch.Clear();
                scratch.Merge(slot.Sketch);
                long oldest = _window.Extend(start - ((_maxWindowBuckets - 1) * _width), start, _minWindowRequests, ref windowCount, ref windowErrors, scratch);
                sketch = scratch;
                WindowBuckets = (int)((start - oldest) / _width) + 1;
            }
            else
            {
                WindowBuckets = 1;
            }

            output.Add(new MetricPoint(Errors, MetricKind.ErrorRate, start, (double)windowErrors / windowCount, windowCount));
            double p50 = sketch.Quantile(0.50);
            double p95 = sketch.Quantile(0.95);
            double p99 = sketch.Quantile(0.99);
            output.Add(new MetricPoint(P50, MetricKind.Latency, start, p50));
            output.Add(new MetricPoint(P95, MetricKind.Latency, start, p95));
            output.Add(new MetricPoint(P99, MetricKind.Latency, start, p99));
            ref var kept = ref _kept[KeptIndex(start)];
            kept.Start = start;
            kept.Slowest = slot.SlowestTrace;
            kept.Failed0 = slot.FailedTrace0;
            kept.Failed1 = slot.FailedTrace1;
            kept.FailedCount = slot.FailedCount;
            if (Scope == RedScope.Instance && ScopeKey is not null && Owner.Node.Instances.TryGetValue(ScopeKey, out var replica))
            {
                replica.LatencyP50Ms = p50;
                replica.ErrorRatio = (double)windowErrors / windowCount;
                replica.RedBucketMs = start;
            }

            if (Edge is { } edge)
            {
                edge.CallRate = count / seconds;
                edge.ErrorRate = (double)slot.Errors / count;
                edge.LatencyP99Ms = p99;
            }
        }

        _window?.Keep(slot);
        slot.Reset(RedBucket.Empty);
        OpenCount--;
    }

    /// <summary>Emits a zero-traffic point for a bucket with no requests.</summary>
    public void EmitEmpty(long start, ICollection<MetricPoint> output)
    {
        output.Add(new MetricPoint(Requests, MetricKind.Throughput, start, 0));
        _window?.KeepEmpty(start);
        if (Edge is { } edge)
        {
            edge.CallRate = 0;
        }
    }

    /// <summary>
    /// Writes what the series accumulated for a checkpoint (its identity, written by the
    /// aggregator, is not repeated): the data range, the open buckets with their sketches and
    /// exemplars, the kept exemplars of closed buckets and the low-traffic window. A slot's position
    /// follows from its bucket start, so only occupied slots are written.
    /// </summary>
    public void WriteState(BinaryWriter writer)
    {
        writer.Write(WindowBuckets);
        writer.Write(FirstBucket);
        writer.Write(LastDataBucket);
        writer.Write(OpenCount);
        foreach (var slot in _open)
        {
            if (slot.Start == RedBucket.Empty)
            {
                continue;
            }

            writer.Write(slot.Start);
            writer.Write(slot.Count);
            writer.Write(slot.Errors);
            slot.Sketch.WriteState(writer);
            StateFraming.WriteId(writer, slot.SlowestTrace);
            writer.Write(slot.SlowestMs);
            StateFraming.WriteId(writer, slot.FailedTrace0);
            StateFraming.WriteId(writer, slot.FailedTrace1);
            writer.Write((byte)slot.FailedCount);
        }

        int kept = 0;
        foreach (ref readonly var k in _kept.AsSpan())
        {
            kept += k.Start != RedBucket.Empty ? 1 : 0;
        }

        writer.Write(kept);
        foreach (ref readonly var k in _kept.AsSpan())
        {
            if (k.Start != RedBucket.Empty)
            {
                writer.Write(k.Start);
                StateFraming.WriteId(writer, k.Slowest);
                StateFraming.WriteId(writer, k.Failed0);
                StateFraming.WriteId(writer, k.Failed1);
                writer.Write((byte)k.FailedCount);
            }
        }

        writer.Write(_window is not null);
        _window?.WriteState(writer);
    }

    /// <summary>Reads what <see cref="WriteState"/> wrote into this freshly created series (same options).</summary>
    public void ReadState(BinaryReader reader)
    {
        WindowBuckets = reader.ReadInt32();
        FirstBucket = reader.ReadInt64();
        LastDataBucket = reader.ReadInt64();
        int open = StateFraming.ReadCount(reader, _open.Length, "open RED bucket");
        OpenCount = open;
        for (int b = 0; b < open; b++)
        {
            long start = reader.ReadInt64();
            var slot = start == RedBucket.Empty || start % _width != 0 ? null : SlotFor(start);
            if (slot is null || slot.Start != RedBucket.Empty)
            {
                throw new InvalidDataException($"Saved open RED bucket {start} of {Requests} is not a free bucket start.");
            }

            slot.Reset(start);
            slot.Count = reader.ReadInt64();
            slot.Errors = reader.ReadInt64();
            slot.Sketch.ReadState(reader);
            slot.SlowestTrace = StateFraming.ReadId(reader);
            slot.SlowestMs = reader.ReadDouble();
            slot.FailedTrace0 = StateFraming.ReadId(reader);
            slot.FailedTrace1 = StateFraming.ReadId(reader);
            slot.FailedCount = reader.ReadByte();
        }

        int kept = StateFraming.ReadCount(reader, _kept.Length, "kept exemplar");
        for (int k = 0; k < kept; k++)
        {
            long start = reader.ReadInt64();
            ref var entry = ref _kept[KeptIndex(start)];
            if (start == RedBucket.Empty || entry.Start != RedBucket.Empty)
            {
                throw new InvalidDataException($"Saved exemplars of bucket {start} of {Requests} collide with another bucket's.");
            }

            entry.Start = start;
            entry.Slowest = StateFraming.ReadId(reader);
            entry.Failed0 = StateFraming.ReadId(reader);
            entry.Failed1 = StateFraming.ReadId(reader);
            entry.FailedCount = reader.ReadByte();
        }

        if (reader.ReadBoolean())
        {
            if (_maxWindowBuckets <= 1)
            {
                throw new InvalidDataException($"{Requests} was saved with a low-traffic window, which these options do not have (TopologyOptions.MaxWindowBuckets).");
            }

            _window = new RedWindow(_maxWindowBuckets - 1, _accuracy);
            _window.ReadState(reader);
        }
    }

    /// <summary>Adds the exemplar trace ids of the closed bucket starting at <paramref name="start"/> (slowest first).</summary>
    public void CollectExemplars(long start, List<string> into)
    {
        ref var kept = ref _kept[KeptIndex(start)];
        if (kept.Start != start)
        {
            return;
        }

        AddHex(kept.Slowest, into);
        if (kept.FailedCount > 0)
        {
            AddHex(kept.Failed0, into);
        }

        if (kept.FailedCount > 1)
        {
            AddHex(kept.Failed1, into);
        }
    }

    private static void AddHex(UInt128 trace, List<string> into)
    {
        string hex = trace.ToString("x32", System.Globalization.CultureInfo.InvariantCulture);
        if (!into.Contains(hex))
        {
            into.Add(hex);
        }
    }

    private int KeptIndex(long start)
    {
        long n = _kept.Length;
        return (int)(((start / _width) % n + n) % n);
    }
}

/// <summary>Per-service state of the aggregator: its node, its inbound series and its operations and instances.</summary>
internal sealed class ServiceState
{
    public ServiceState(int id, string name, ServiceNode node)
    {
        Id = id;
        Name = name;
        Node = node;
    }

    public int Id { get; }

    public string Name { get; }

    public ServiceNode Node { get; set; }

    public RedSeries? Inbound { get; set; }

    public Dictionary<string, RedSeries> Operations { get; } = new(StringComparer.Ordinal);

    public int OperationOverflowCount { get; set; }

    public Dictionary<string, RedSeries> Instances { get; } = new(StringComparer.Ordinal);
}
