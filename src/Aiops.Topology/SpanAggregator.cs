using Aiops.Core;

namespace Aiops.Topology;

/// <summary>What the aggregator did with the spans it was given; nothing is dropped silently.</summary>
public sealed class TopologyCounters
{
    /// <summary>Spans passed to <see cref="SpanAggregator.Observe(in SpanRecord)"/>.</summary>
    public long Spans { get; internal set; }

    /// <summary>Spans rejected as malformed (empty service, zero ids, end before start).</summary>
    public long Invalid { get; internal set; }

    /// <summary>Spans starting more than <see cref="TopologyOptions.MaxFutureSkewMs"/> past the watermark.</summary>
    public long Future { get; internal set; }

    /// <summary>Spans (or pairings) whose bucket had already closed: counted in the graph, not in RED series.</summary>
    public long Late { get; internal set; }

    /// <summary>Client spans matched with the server span of another service.</summary>
    public long Paired { get; internal set; }

    /// <summary>Client/producer/consumer spans attributed to a virtual node (database, queue, external host).</summary>
    public long Virtual { get; internal set; }

    /// <summary>Client spans that found no server span within the wait and named no peer.</summary>
    public long UnpairedClients { get; internal set; }

    /// <summary>Server spans whose parent client span did not arrive within the wait.</summary>
    public long UnpairedServers { get; internal set; }

    /// <summary>Spans that could not wait for a partner because the pending table was full.</summary>
    public long PendingOverflow { get; internal set; }

    /// <summary>Internal spans (no RED or graph contribution).</summary>
    public long Internal { get; internal set; }
}

/// <summary>
/// Turns spans into RED series (rate, errors, latency quantiles per service, operation, instance
/// and edge, in event-time buckets) and into the <see cref="ServiceGraph"/>.
/// </summary>
/// <remarks>
/// <para>Hot path: one <see cref="Observe(in SpanRecord)"/> costs a handful of dictionary lookups
/// keyed by strings the span already holds or by (trace id, span id) structs, and one sketch
/// insert per series; in steady state it allocates nothing (series, buckets and sketches are
/// allocated when a series first appears and reused), which is what the 1,000,000 spans/s/core
/// target needs.</para>
/// <para>Pairing: a server span whose parent is a client span of another service makes the edge
/// caller → callee. Exporters send a span when it ends, so the (shorter) server span usually
/// arrives before its client parent; either side waits up to
/// <see cref="TopologyOptions.PairingWaitMs"/> of event time for the other. Client spans with
/// <c>db.system</c>, producer/consumer spans with <c>messaging.system</c> and, after the wait,
/// client spans naming <c>peer.service</c> / <c>server.address</c> go to virtual nodes; the rest
/// is counted as unpaired, never guessed.</para>
/// <para>Bucket [b, b + width) closes when <see cref="AdvanceTo(long)"/> passes
/// b + width + <see cref="TopologyOptions.PairingWaitMs"/>, so late pairings still land.
/// Not thread-safe: one pipeline owns one aggregator.</para>
/// </remarks>
public sealed partial class SpanAggregator
{
    private const string OtherKey = "_other";

    private readonly TopologyOptions _options;
    private readonly long _width;
    private readonly long _closeLag;
    private readonly int _openBuckets;
    private readonly double _inverseLogGamma;
    private readonly Dictionary<string, int> _serviceIds = new(StringComparer.Ordinal);
    private readonly List<ServiceState> _services = [];
    private readonly Dictionary<string, int> _databaseIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _queueIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _externalIds = new(StringComparer.Ordinal);
    private readonly Dictionary<long, RedSeries> _edges = [];
    private readonly List<RedSeries> _series = [];
    private readonly Dictionary<SeriesKey, RedSeries> _byKey = [];
    private readonly Dictionary<SpanKey, PendingClient> _pendingClients = [];
    private readonly Dictionary<SpanKey, PendingServer> _pendingServers = [];
    private readonly Queue<PendingExpiry> _expiries = new();
    private readonly List<MetricPoint> _earlyClosed = [];
    private readonly LatencySketch _windowScratch;
    private readonly bool _partials;
    private readonly List<RedPartial> _earlyPartials = [];
    private readonly Dictionary<long, EdgeFactSum> _edgeFacts = [];
    private readonly Dictionary<(int Service, string Instance), InstanceFactSpan> _instanceFacts = [];
    private readonly List<GraphFact> _versionFacts = [];
    private readonly List<int> _touchedNodes = [];
    private long[] _nodeSeen = [];
    private bool _started;
    private bool _advanced;
    private long _closedBefore;
    private long _watermark = long.MinValue;
    private long _lastAgeOutMs = long.MinValue;

    /// <summary>Creates an aggregator; the options are validated and then owned by it.</summary>
    public SpanAggregator(TopologyOptions? options = null)
        : this(options, partials: false)
    {
    }

    /// <summary>
    /// Creates an aggregator. With <paramref name="partials"/> it is the ingest stage of a
    /// repartitioned pipeline: a closing bucket leaves as a <see cref="RedPartial"/> (see
    /// <see cref="AdvanceToPartials"/>) instead of as points, and the graph changes are collected as
    /// <see cref="GraphFact"/>s (see <see cref="DrainGraphFacts"/>).
    /// </summary>
    public SpanAggregator(TopologyOptions? options, bool partials)
    {
        _partials = partials;
        _options = options ?? new TopologyOptions();
        _options.Validate();
        _width = _options.BucketWidthMs;
        _closeLag = _options.PairingWaitMs;
        // Open buckets at once: the close lag plus the current bucket, plus two of slack for spans
        // slightly ahead of the watermark; older buckets are closed early, never lost.
        _openBuckets = (int)Math.Min(1024, (_closeLag / _width) + 4);
        _windowScratch = new LatencySketch(_options.SketchRelativeAccuracy);
        _inverseLogGamma = _windowScratch.InverseLogGamma;
    }

    /// <summary>The service graph built from the spans.</summary>
    public ServiceGraph Graph { get; } = new();

    /// <summary>What happened to the spans observed.</summary>
    public TopologyCounters Counters { get; } = new();

    /// <summary>The options in use.</summary>
    public TopologyOptions Options => _options;

    /// <summary>Number of live RED series (each emits up to five metric series).</summary>
    public int SeriesCount => _series.Count;

    /// <summary>Spans waiting for their pairing partner.</summary>
    public int PendingSpans => _pendingClients.Count + _pendingServers.Count;

    /// <summary>The latest time passed to <see cref="AdvanceTo(long)"/> (Unix ms).</summary>
    public long WatermarkMs => _watermark;

    /// <summary>Takes one span into the RED series and the graph. Malformed spans are counted, not thrown.</summary>
    public void Observe(in SpanRecord span)
    {
        var counters = Counters;
        counters.Spans++;
        if (string.IsNullOrEmpty(span.Service) || span.SpanId == 0 || span.TraceId == UInt128.Zero || span.EndUnixNanos < span.StartUnixNanos)
        {
            counters.Invalid++;
            return;
        }

        long startMs = span.StartUnixNanos / 1_000_000;
        long bucket = BucketOf(startMs);
        if (!_started)
        {
            _started = true;
            _closedBefore = BucketOf(startMs - _closeLag);
        }

        if (_advanced && startMs > _watermark + _options.MaxFutureSkewMs)
        {
            counters.Future++;
            return;
        }

        long endMs = span.EndUnixNanos / 1_000_000;
        var service = ServiceOf(span.Service, endMs);
        var node = service.Node;
        string? instance = span.ServiceInstance;
        if (instance is not null)
        {
            if (node.Instances.Count < _options.MaxInstancesPerService || node.Instances.ContainsKey(instance))
            {
                node.TouchInstance(instance, span.ServiceVersion, endMs);
                if (_partials)
                {
                    NoteInstance(service.Id, instance, span.ServiceVersion, endMs);
                }
            }
            else
            {
                instance = OtherKey;
            }
        }

        double durationMs = (span.EndUnixNanos - span.StartUnixNanos) / 1e6;
        bool error = span.Status == SpanStatus.Error;
        var kind = span.Kind;
        switch (kind)
        {
            case SpanKind.Server:
            case SpanKind.Consumer:
            case SpanKind.Internal or SpanKind.Unspecified when span.ParentSpanId == 0:
                ObserveInbound(service, span.Name, instance, bucket, durationMs, error, span.TraceId);
                if (kind == SpanKind.Consumer && span.MessagingSystem is { Length: > 0 } consumedFrom)
                {
                    int queue = VirtualOf(_queueIds, RedMetrics.QueuePrefix, consumedFrom, endMs);
                    RecordEdge(queue, service.Id, bucket, durationMs, error, span.TraceId, endMs);
                    counters.Virtual++;
                }
                else if (kind == SpanKind.Server && span.ParentSpanId != 0)
                {
                    PairServer(in span, service, endMs);
                }

                break;

            case SpanKind.Client:
            case SpanKind.Producer:
                if (span.DbSystem is { Length: > 0 } db)
                {
                    RecordEdge(service.Id, VirtualOf(_databaseIds, RedMetrics.DatabasePrefix, db, endMs), bucket, durationMs, error, span.TraceId, endMs);
                    counters.Virtual++;
                }
                else if (kind == SpanKind.Producer && span.MessagingSystem is { Length: > 0 } queueSystem)
                {
                    RecordEdge(service.Id, VirtualOf(_queueIds, RedMetrics.QueuePrefix, queueSystem, endMs), bucket, durationMs, error, span.TraceId, endMs);
                    counters.Virtual++;
                }
                else
                {
                    PairClient(in span, service, startMs, durationMs, error, endMs);
                }

                break;

            default:
                counters.Internal++;
                break;
        }
    }

    /// <summary>
    /// Moves event time to <paramref name="eventTimeMs"/>: expires pairing waits, closes the
    /// buckets that can no longer change, ages out idle nodes and edges, and returns the closed
    /// buckets' points (a new list; use the overload to reuse one).
    /// </summary>
    public IReadOnlyList<MetricPoint> AdvanceTo(long eventTimeMs)
    {
        var output = new List<MetricPoint>();
        AdvanceTo(eventTimeMs, output);
        return output;
    }

    /// <summary>
    /// Moves event time to <paramref name="eventTimeMs"/> and adds the closed buckets' points to
    /// <paramref name="output"/>; returns how many were added. Time never moves back: an earlier
    /// time only flushes what is already due.
    /// </summary>
    public int AdvanceTo(long eventTimeMs, ICollection<MetricPoint> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_partials)
        {
            throw new InvalidOperationException("This aggregator emits partial buckets: call AdvanceToPartials.");
        }

        return Advance(eventTimeMs, output, null);
    }

    /// <summary>
    /// The ingest stage's <see cref="AdvanceTo(long, ICollection{MetricPoint})"/>: the buckets that
    /// close leave as this partition's <see cref="RedPartial"/>s (only buckets that had requests;
    /// the per-service stage emits the zero-traffic points), in the same event-time order.
    /// </summary>
    public int AdvanceToPartials(long eventTimeMs, ICollection<RedPartial> partials)
    {
        ArgumentNullException.ThrowIfNull(partials);
        if (!_partials)
        {
            throw new InvalidOperationException("This aggregator emits points: call AdvanceTo.");
        }

        int before = partials.Count;
        foreach (var partial in _earlyPartials)
        {
            partials.Add(partial);
        }

        _earlyPartials.Clear();
        Advance(eventTimeMs, [], partials);
        return partials.Count - before;
    }

    /// <summary>
    /// Adds one partition's share of a bucket (the per-service stage of a repartitioned pipeline,
    /// on an aggregator made without partials). A share of a bucket that already closed here is
    /// counted in <see cref="TopologyCounters.Late"/> and dropped.
    /// </summary>
    /// <returns>False when the bucket had already closed.</returns>
    public bool AddPartial(RedPartial partial)
    {
        ArgumentNullException.ThrowIfNull(partial);
        long bucket = BucketOf(partial.BucketStartMs);
        if (!_started)
        {
            _started = true;
            _closedBefore = BucketOf(bucket - _closeLag);
        }

        if (bucket < _closedBefore)
        {
            Counters.Late++;
            return false;
        }

        var service = ServiceOf(partial.Service, bucket);
        string key = partial.ScopeKey ?? string.Empty;
        RedSeries series;
        switch (partial.Scope)
        {
            case RedPartialScope.Operation:
                if (!service.Operations.TryGetValue(key, out var op))
                {
                    op = NewSeries(RedScope.Operation, service, key, RedMetrics.OperationLabel + "=" + key, service.Name);
                    service.Operations.Add(key, op);
                }

                series = op;
                break;
            case RedPartialScope.Instance:
                if (!service.Instances.TryGetValue(key, out var inst))
                {
                    inst = NewSeries(RedScope.Instance, service, key, RedMetrics.InstanceLabel + "=" + key, service.Name);
                    service.Instances.Add(key, inst);
                }

                service.Node.TouchInstance(key, null, bucket);
                series = inst;
                break;
            case RedPartialScope.Edge:
                var callee = ServiceOf(key, bucket);
                long edgeKey = ((long)service.Id << 32) | (uint)callee.Id;
                if (!_edges.TryGetValue(edgeKey, out var edgeSeries))
                {
                    edgeSeries = NewSeries(RedScope.Edge, service, key, RedMetrics.CalleeLabel + "=" + key, key, edgeKey);
                    _edges.Add(edgeKey, edgeSeries);
                }

                if (edgeSeries.Edge is null || edgeSeries.Edge.Removed)
                {
                    edgeSeries.Edge = Graph.AddEdge(service.Name, key, bucket);
                }

                series = edgeSeries;
                break;
            default:
                series = service.Inbound ??= NewSeries(RedScope.Service, service, null, string.Empty, service.Name);
                break;
        }

        var slot = series.SlotFor(bucket);
        if (slot.Start != bucket && slot.Start != RedBucket.Empty)
        {
            series.Close(slot, _earlyClosed, _windowScratch);
        }

        series.AddPartial(slot, partial);
        return true;
    }

    /// <summary>
    /// Moves the graph changes collected since the last call (ingest stage only) to
    /// <paramref name="output"/>: one fact per touched node, edge and instance version.
    /// </summary>
    public void DrainGraphFacts(ICollection<GraphFact> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        foreach (int id in _touchedNodes)
        {
            output.Add(new GraphFact { Kind = GraphFactKind.Node, Node = _services[id].Name, TimeMs = _nodeSeen[id] });
            _nodeSeen[id] = long.MinValue;
        }

        _touchedNodes.Clear();
        foreach (var (key, sum) in _edgeFacts)
        {
            output.Add(new GraphFact
            {
                Kind = GraphFactKind.Edge,
                Node = _services[(int)(key >> 32)].Name,
                Other = _services[(int)(uint)key].Name,
                TimeMs = sum.SeenMs,
                Calls = sum.Calls,
                Errors = sum.Errors,
            });
        }

        _edgeFacts.Clear();
        foreach (var fact in _versionFacts)
        {
            output.Add(fact);
        }

        _versionFacts.Clear();
        foreach (var (key, span) in _instanceFacts)
        {
            output.Add(InstanceFact(key, span));
        }

        _instanceFacts.Clear();
    }

    private int Advance(long eventTimeMs, ICollection<MetricPoint> output, ICollection<RedPartial>? partials)
    {
        int before = output.Count;
        if (!_advanced || eventTimeMs > _watermark)
        {
            _watermark = eventTimeMs;
        }

        _advanced = true;
        ExpirePending(_watermark);
        foreach (var point in _earlyClosed)
        {
            output.Add(point);
        }

        _earlyClosed.Clear();
        if (!_started)
        {
            return output.Count - before;
        }

        long newClosedBefore = BucketOf(_watermark - _closeLag - _width) + _width;
        if (newClosedBefore > _closedBefore)
        {
            CloseBuckets(_closedBefore, newClosedBefore, output, partials);
            _closedBefore = newClosedBefore;
        }

        if (_lastAgeOutMs == long.MinValue || _watermark - _lastAgeOutMs >= _width)
        {
            _lastAgeOutMs = _watermark;
            Graph.RemoveIdle(_watermark - _options.IdleTimeoutMs);
        }

        return output.Count - before;
    }

    /// <summary>
    /// Exemplar trace ids (32 lower-case hex digits; slowest first, then failed ones) of the
    /// closed bucket of <paramref name="series"/> that contains <paramref name="timestampMs"/>.
    /// Empty when the series is unknown or the bucket is older than the retention.
    /// </summary>
    public IReadOnlyList<string> GetExemplarTraceIds(SeriesKey series, long timestampMs)
    {
        if (!_byKey.TryGetValue(series, out var red))
        {
            return [];
        }

        var result = new List<string>(3);
        red.CollectExemplars(BucketOf(timestampMs), result);
        return result;
    }

    /// <summary>
    /// How many buckets the latest closed point of <paramref name="series"/> was computed over:
    /// 1, or more for a quiet series (see <see cref="TopologyOptions.MinWindowRequests"/>), whose
    /// consecutive points then share requests and are not independent evidence. 1 when unknown.
    /// </summary>
    public int WindowBucketsOf(SeriesKey series) => _byKey.TryGetValue(series, out var red) ? red.WindowBuckets : 1;

    private long BucketOf(long ms) => ms >= 0 ? ms - (ms % _width) : ms - (((ms % _width) + _width) % _width);

    private ServiceState ServiceOf(string name, long seenMs)
    {
        if (!_serviceIds.TryGetValue(name, out int id))
        {
            id = _services.Count;
            _serviceIds.Add(name, id);
            _services.Add(new ServiceState(id, name, Graph.AddNode(name, seenMs)));
        }

        var state = _services[id];
        Touch(state, seenMs);
        return state;
    }

    private void Touch(ServiceState state, long seenMs)
    {
        if (_partials)
        {
            NoteNode(state.Id, seenMs);
        }

        var node = state.Node;
        if (node.Removed)
        {
            node = Graph.AddNode(state.Name, seenMs);
            state.Node = node;
        }

        if (seenMs > node.LastSeenMs)
        {
            node.LastSeenMs = seenMs;
        }
    }

    private int VirtualOf(Dictionary<string, int> ids, string prefix, string system, long seenMs)
    {
        if (!ids.TryGetValue(system, out int id))
        {
            string name = prefix + system;
            if (!_serviceIds.TryGetValue(name, out id))
            {
                id = _services.Count;
                _serviceIds.Add(name, id);
                _services.Add(new ServiceState(id, name, Graph.AddNode(name, seenMs)));
            }

            ids.Add(system, id);
        }

        Touch(_services[id], seenMs);
        return id;
    }

    private void ObserveInbound(ServiceState service, string operation, string? instance, long bucket, double durationMs, bool error, UInt128 traceId)
    {
        if (bucket < _closedBefore)
        {
            Counters.Late++;
            return;
        }

        int key = LatencySketch.KeyOf(durationMs, _inverseLogGamma);
        service.Inbound ??= NewSeries(RedScope.Service, service, null, string.Empty, service.Name);
        Add(service.Inbound, bucket, durationMs, key, error, traceId);

        if (!service.Operations.TryGetValue(operation ?? string.Empty, out var op))
        {
            string name = operation ?? string.Empty;
            if (service.Operations.Count >= _options.MaxOperationsPerService)
            {
                service.OperationOverflowCount++;
                name = OtherKey;
            }

            if (!service.Operations.TryGetValue(name, out op))
            {
                op = NewSeries(RedScope.Operation, service, name, RedMetrics.OperationLabel + "=" + name, service.Name);
                service.Operations.Add(name, op);
            }
        }

        Add(op, bucket, durationMs, key, error, traceId);

        if (instance is not null)
        {
            if (!service.Instances.TryGetValue(instance, out var inst))
            {
                inst = NewSeries(RedScope.Instance, service, instance, RedMetrics.InstanceLabel + "=" + instance, service.Name);
                service.Instances.Add(instance, inst);
            }

            Add(inst, bucket, durationMs, key, error, traceId);
        }
    }

    private void RecordEdge(int callerId, int calleeId, long bucket, double durationMs, bool error, UInt128 traceId, long seenMs)
    {
        long key = ((long)callerId << 32) | (uint)calleeId;
        if (!_edges.TryGetValue(key, out var series))
        {
            var caller = _services[callerId];
            string callee = _services[calleeId].Name;
            series = NewSeries(RedScope.Edge, caller, callee, RedMetrics.CalleeLabel + "=" + callee, callee, key);
            _edges.Add(key, series);
        }

        var edge = series.Edge;
        if (edge is null || edge.Removed)
        {
            edge = Graph.AddEdge(series.Owner.Name, series.Node, seenMs);
            series.Edge = edge;
        }

        if (seenMs > edge.LastSeenMs)
        {
            edge.LastSeenMs = seenMs;
        }

        edge.TotalCalls++;
        if (error)
        {
            edge.TotalErrors++;
        }

        if (_partials)
        {
            ref var sum = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_edgeFacts, key, out _);
            sum.Calls++;
            sum.Errors += error ? 1 : 0;
            sum.SeenMs = Math.Max(sum.SeenMs, seenMs);
        }

        Touch(_services[callerId], seenMs);
        Touch(_services[calleeId], seenMs);
        if (bucket < _closedBefore)
        {
            Counters.Late++;
            return;
        }

        Add(series, bucket, durationMs, error, traceId);
    }

    private void Add(RedSeries series, long bucket, double durationMs, bool error, UInt128 traceId) =>
        Add(series, bucket, durationMs, LatencySketch.KeyOf(durationMs, _inverseLogGamma), error, traceId);

    private void Add(RedSeries series, long bucket, double durationMs, int sketchKey, bool error, UInt128 traceId)
    {
        var slot = series.SlotFor(bucket);
        if (slot.Start != bucket && slot.Start != RedBucket.Empty)
        {
            // The ring is full (event time ran ahead of AdvanceTo): close the older bucket now
            // and hand its points out on the next AdvanceTo rather than lose them.
            if (_partials)
            {
                _earlyPartials.Add(series.ToPartial(slot));
                series.Release(slot);
            }
            else
            {
                series.Close(slot, _earlyClosed, _windowScratch);
            }
        }

        series.Add(slot, bucket, durationMs, sketchKey, error, traceId);
    }

    private RedSeries NewSeries(RedScope scope, ServiceState owner, string? scopeKey, string labels, string node, long edgeKey = 0)
    {
        var series = new RedSeries(scope, owner, scopeKey, labels, node, _width, _openBuckets, _options.ExemplarRetentionBuckets, _options.SketchRelativeAccuracy, _options.MinWindowRequests, _options.MaxWindowBuckets)
        {
            EdgeKey = edgeKey,
        };
        _series.Add(series);
        _byKey[series.Requests] = series;
        _byKey[series.Errors] = series;
        _byKey[series.P50] = series;
        _byKey[series.P95] = series;
        _byKey[series.P99] = series;
        return series;
    }

    private void PairServer(in SpanRecord span, ServiceState callee, long endMs)
    {
        var parentKey = new SpanKey(span.TraceId, span.ParentSpanId);
        if (_pendingClients.Remove(parentKey, out var client))
        {
            Pair(client, callee.Id);
            return;
        }

        if (_pendingServers.Count + _pendingClients.Count >= _options.MaxPendingSpans)
        {
            Counters.PendingOverflow++;
            Counters.UnpairedServers++;
            return;
        }

        long deadline = Math.Max(endMs, _watermark) + _options.PairingWaitMs;
        if (_pendingServers.TryAdd(parentKey, new PendingServer(callee.Id, deadline)))
        {
            _expiries.Enqueue(new PendingExpiry(parentKey, deadline, IsClient: false));
        }
    }

    private void PairClient(in SpanRecord span, ServiceState caller, long startMs, double durationMs, bool error, long endMs)
    {
        var key = new SpanKey(span.TraceId, span.SpanId);
        var client = new PendingClient(caller.Id, startMs, durationMs, error, span.TraceId, span.PeerService, span.ServerAddress, 0);
        if (_pendingServers.Remove(key, out var server))
        {
            Pair(client, server.CalleeId);
            return;
        }

        if (_pendingServers.Count + _pendingClients.Count >= _options.MaxPendingSpans)
        {
            Counters.PendingOverflow++;
            ResolveUnpairedClient(client);
            return;
        }

        long deadline = Math.Max(endMs, _watermark) + _options.PairingWaitMs;
        if (_pendingClients.TryAdd(key, client with { DeadlineMs = deadline }))
        {
            _expiries.Enqueue(new PendingExpiry(key, deadline, IsClient: true));
        }
    }

    private void Pair(in PendingClient client, int calleeId)
    {
        if (client.CallerId == calleeId)
        {
            // A call inside one service (e.g. through a local proxy) is no edge of the graph.
            return;
        }

        Counters.Paired++;
        long endMs = client.StartMs + (long)client.DurationMs;
        RecordEdge(client.CallerId, calleeId, BucketOf(client.StartMs), client.DurationMs, client.Error, client.TraceId, endMs);
    }

    private void ExpirePending(long nowMs)
    {
        while (_expiries.Count > 0 && _expiries.Peek().DeadlineMs <= nowMs)
        {
            var expiry = _expiries.Dequeue();
            if (expiry.IsClient)
            {
                if (_pendingClients.TryGetValue(expiry.Key, out var client) && client.DeadlineMs == expiry.DeadlineMs)
                {
                    _pendingClients.Remove(expiry.Key);
                    ResolveUnpairedClient(client);
                }
            }
            else if (_pendingServers.TryGetValue(expiry.Key, out var server) && server.DeadlineMs == expiry.DeadlineMs)
            {
                _pendingServers.Remove(expiry.Key);
                Counters.UnpairedServers++;
            }
        }
    }

    private void ResolveUnpairedClient(in PendingClient client)
    {
        // The callee did not report a server span: it is uninstrumented (or its spans were lost).
        // Only a peer the client itself names is used; without one the call is counted, not guessed.
        string? peer = client.PeerService is { Length: > 0 } p ? p : client.ServerAddress is { Length: > 0 } a ? a : null;
        if (peer is null)
        {
            Counters.UnpairedClients++;
            return;
        }

        long endMs = client.StartMs + (long)client.DurationMs;
        int calleeId = _serviceIds.TryGetValue(peer, out int known) && !RedMetrics.IsVirtualNode(peer)
            ? known
            : VirtualOf(_externalIds, RedMetrics.ExternalPrefix, peer, endMs);
        Counters.Virtual++;
        if (calleeId != client.CallerId)
        {
            RecordEdge(client.CallerId, calleeId, BucketOf(client.StartMs), client.DurationMs, client.Error, client.TraceId, endMs);
        }
    }

    private void CloseBuckets(long from, long to, ICollection<MetricPoint> output, ICollection<RedPartial>? partials = null)
    {
        long idle = _options.IdleTimeoutMs;
        int write = 0;
        for (int i = 0; i < _series.Count; i++)
        {
            var series = _series[i];
            if (series.FirstBucket != RedBucket.Empty)
            {
                long zeroUntil = series.LastDataBucket + idle;
                for (long b = Math.Max(from, series.FirstBucket); b < to; b += _width)
                {
                    if (b > zeroUntil)
                    {
                        break;
                    }

                    var slot = series.SlotFor(b);
                    if (slot.Start == b)
                    {
                        if (partials is not null)
                        {
                            partials.Add(series.ToPartial(slot));
                            series.Release(slot);
                        }
                        else
                        {
                            series.Close(slot, output, _windowScratch);
                        }
                    }
                    else if (partials is null)
                    {
                        series.EmitEmpty(b, output);
                    }
                }
            }

            bool expired = series.OpenCount == 0 && (series.FirstBucket == RedBucket.Empty || series.LastDataBucket + idle < to);
            if (expired)
            {
                Forget(series);
            }
            else
            {
                _series[write++] = series;
            }
        }

        _series.RemoveRange(write, _series.Count - write);
    }

    private void Forget(RedSeries series)
    {
        _byKey.Remove(series.Requests);
        _byKey.Remove(series.Errors);
        _byKey.Remove(series.P50);
        _byKey.Remove(series.P95);
        _byKey.Remove(series.P99);
        var owner = series.Owner;
        switch (series.Scope)
        {
            case RedScope.Service:
                owner.Inbound = null;
                break;
            case RedScope.Operation:
                owner.Operations.Remove(series.ScopeKey!);
                break;
            case RedScope.Instance:
                owner.Instances.Remove(series.ScopeKey!);
                break;
            case RedScope.Edge:
                _edges.Remove(series.EdgeKey);
                break;
        }
    }

    private void NoteNode(int id, long seenMs)
    {
        if (id >= _nodeSeen.Length)
        {
            int old = _nodeSeen.Length;
            Array.Resize(ref _nodeSeen, Math.Max(16, Math.Max(id + 1, old * 2)));
            Array.Fill(_nodeSeen, long.MinValue, old, _nodeSeen.Length - old);
        }

        if (_nodeSeen[id] == long.MinValue)
        {
            _touchedNodes.Add(id);
            _nodeSeen[id] = seenMs;
        }
        else if (seenMs > _nodeSeen[id])
        {
            _nodeSeen[id] = seenMs;
        }
    }

    private void NoteInstance(int serviceId, string instance, string? version, long seenMs)
    {
        ref var span = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_instanceFacts, (serviceId, instance), out bool exists);
        if (exists && version is not null && span.Version is not null && !string.Equals(version, span.Version, StringComparison.Ordinal))
        {
            // A new version within one tick: the old one's span goes out first, so the graph
            // downstream sees the change in the order it happened.
            _versionFacts.Add(InstanceFact((serviceId, instance), span));
            exists = false;
        }

        if (!exists)
        {
            span = new InstanceFactSpan(version, seenMs, seenMs);
            return;
        }

        span = new InstanceFactSpan(span.Version ?? version, Math.Min(span.FirstMs, seenMs), Math.Max(span.LastMs, seenMs));
    }

    private GraphFact InstanceFact((int Service, string Instance) key, in InstanceFactSpan span) => new()
    {
        Kind = GraphFactKind.Instance,
        Node = _services[key.Service].Name,
        Other = key.Instance,
        Version = span.Version,
        FirstMs = span.FirstMs,
        TimeMs = span.LastMs,
    };

    private struct EdgeFactSum
    {
        public long Calls;
        public long Errors;
        public long SeenMs;
    }

    private readonly record struct InstanceFactSpan(string? Version, long FirstMs, long LastMs);

    private readonly record struct SpanKey(UInt128 TraceId, ulong SpanId);

    private readonly record struct PendingClient(int CallerId, long StartMs, double DurationMs, bool Error, UInt128 TraceId, string? PeerService, string? ServerAddress, long DeadlineMs);

    private readonly record struct PendingServer(int CalleeId, long DeadlineMs);

    private readonly record struct PendingExpiry(SpanKey Key, long DeadlineMs, bool IsClient);
}
