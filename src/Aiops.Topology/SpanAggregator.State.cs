using Aiops.Core;

namespace Aiops.Topology;

/// <summary>The aggregator's checkpoint: everything open, so a restored aggregator continues byte for byte.</summary>
public sealed partial class SpanAggregator
{
    private const uint StateMagic = 0x47474153; // "SAGG"
    private const int StateVersion = 1;
    private const string StateName = "span aggregator state";

    /// <summary>Bound on saved element counts: far above any configured cap (series, pending spans), far below what a corrupt count would claim.</summary>
    private const int MaxSavedItems = 1 << 24;

    /// <summary>
    /// Writes the aggregator's open state: the event-time position (watermark, closed-before,
    /// age-out clock), the counters, the graph it keeps (nodes with their instances and versions,
    /// edges), its services, and every live RED series in its closing order with its open buckets
    /// (counts, sketch bins, exemplars), kept exemplars and low-traffic window; the spans waiting
    /// for a partner with their expiry queue; buckets closed early but not yet handed out; and the
    /// graph facts collected since the last drain.
    /// </summary>
    /// <remarks>
    /// <para>The rule it follows: saved after the record at offset N − 1 and loaded into a fresh
    /// aggregator with the same options, reading on from N gives exactly the output of an
    /// undisturbed run. Where an order shapes output it is kept (series close in list order, the
    /// expiry queue, the graph facts drain in the order they were first touched); elsewhere keys are
    /// sorted, so the same state always gives the same bytes.</para>
    /// <para>O(state), off the hot path: about 100 B per series plus its open buckets' sketch bins
    /// (8 B each) and 60 B per kept exemplar.</para>
    /// </remarks>
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        StateFraming.WriteHeader(writer, StateMagic, StateVersion);
        writer.Write(_partials);
        writer.Write(_width);
        writer.Write(_closeLag);
        writer.Write(_openBuckets);
        writer.Write(_options.SketchRelativeAccuracy);
        writer.Write(_options.ExemplarRetentionBuckets);
        writer.Write(_options.MaxWindowBuckets);

        writer.Write(_started);
        writer.Write(_advanced);
        writer.Write(_closedBefore);
        writer.Write(_watermark);
        writer.Write(_lastAgeOutMs);
        WriteCounters(writer);
        // The aggregator's own graph shapes what it emits (the per-service instance cap counts live
        // instances; nodes and edges age out by their last-seen times), so it is saved whole.
        Graph.SaveState(writer);

        writer.Write(_services.Count);
        foreach (var service in _services)
        {
            writer.Write(service.Name);
            writer.Write(service.OperationOverflowCount);
        }

        WriteIds(writer, _databaseIds);
        WriteIds(writer, _queueIds);
        WriteIds(writer, _externalIds);

        writer.Write(_series.Count);
        foreach (var series in _series)
        {
            writer.Write((byte)series.Scope);
            writer.Write(series.Owner.Id);
            StateFraming.WriteNullable(writer, series.ScopeKey);
            writer.Write(series.Requests.Labels);
            writer.Write(series.Node);
            writer.Write(series.EdgeKey);
            series.WriteState(writer);
        }

        WritePending(writer);

        writer.Write(_earlyClosed.Count);
        foreach (var point in _earlyClosed)
        {
            StateFraming.WriteSeries(writer, point.Series);
            writer.Write((byte)point.Kind);
            writer.Write(point.TimestampMs);
            writer.Write(point.Value);
            writer.Write(point.Total);
        }

        writer.Write(_earlyPartials.Count);
        foreach (var partial in _earlyPartials)
        {
            partial.Write(writer);
        }

        WriteFacts(writer);
        StateFraming.WriteEnd(writer, StateMagic);
    }

    /// <summary>
    /// Loads what <see cref="SaveState"/> wrote into this freshly constructed aggregator (same
    /// options, nothing observed yet). Throws <see cref="InvalidDataException"/> naming the span
    /// aggregator state when the section is foreign, newer, truncated, corrupt or was saved with
    /// another bucket layout; the aggregator is then unusable and must be discarded.
    /// </summary>
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (_started || _advanced || _services.Count > 0)
        {
            throw new InvalidOperationException("State can only be loaded into a freshly constructed aggregator.");
        }

        StateFraming.Read(reader, StateMagic, StateVersion, StateName, ReadBody);
    }

    private void ReadBody(BinaryReader reader)
    {
        bool partials = reader.ReadBoolean();
        long width = reader.ReadInt64();
        long closeLag = reader.ReadInt64();
        int openBuckets = reader.ReadInt32();
        double accuracy = reader.ReadDouble();
        int kept = reader.ReadInt32();
        int window = reader.ReadInt32();
        if (partials != _partials || width != _width || closeLag != _closeLag || openBuckets != _openBuckets
            || accuracy != _options.SketchRelativeAccuracy || kept != _options.ExemplarRetentionBuckets || window != _options.MaxWindowBuckets)
        {
            throw new InvalidDataException(
                $"The {StateName} was saved with another layout (partials {partials}, bucket {width} ms, pairing wait {closeLag} ms, {openBuckets} open buckets, "
                + $"accuracy {accuracy}, {kept} kept, window {window}); this aggregator has partials {_partials}, bucket {_width} ms, pairing wait {_closeLag} ms, "
                + $"{_openBuckets} open buckets, accuracy {_options.SketchRelativeAccuracy}, {_options.ExemplarRetentionBuckets} kept, window {_options.MaxWindowBuckets}.");
        }

        _started = reader.ReadBoolean();
        _advanced = reader.ReadBoolean();
        _closedBefore = reader.ReadInt64();
        _watermark = reader.ReadInt64();
        _lastAgeOutMs = reader.ReadInt64();
        ReadCounters(reader);
        Graph.LoadState(reader);

        int services = StateFraming.ReadCount(reader, MaxSavedItems, "service");
        for (int id = 0; id < services; id++)
        {
            string name = reader.ReadString();
            // A node that aged out of the graph stays linked to its service as a removed one, so the next span re-adds it.
            var node = Graph.TryGetNode(name, out var live) ? live : new ServiceNode(name, ServiceGraph.KindOf(name), 0) { Removed = true };
            _serviceIds.Add(name, id);
            _services.Add(new ServiceState(id, name, node) { OperationOverflowCount = reader.ReadInt32() });
        }

        ReadIds(reader, _databaseIds);
        ReadIds(reader, _queueIds);
        ReadIds(reader, _externalIds);

        int seriesCount = StateFraming.ReadCount(reader, MaxSavedItems, "RED series");
        for (int i = 0; i < seriesCount; i++)
        {
            ReadSeries(reader);
        }

        ReadPending(reader);

        int early = StateFraming.ReadCount(reader, MaxSavedItems, "early-closed point");
        for (int i = 0; i < early; i++)
        {
            var series = StateFraming.ReadSeries(reader);
            var kind = (MetricKind)reader.ReadByte();
            _earlyClosed.Add(new MetricPoint(series, kind, reader.ReadInt64(), reader.ReadDouble(), reader.ReadDouble()));
        }

        int earlyPartials = StateFraming.ReadCount(reader, MaxSavedItems, "early-closed partial");
        for (int i = 0; i < earlyPartials; i++)
        {
            _earlyPartials.Add(RedPartial.Read(reader));
        }

        ReadFacts(reader);
    }

    private void WriteCounters(BinaryWriter writer)
    {
        var c = Counters;
        writer.Write(c.Spans);
        writer.Write(c.Invalid);
        writer.Write(c.Future);
        writer.Write(c.Late);
        writer.Write(c.Paired);
        writer.Write(c.Virtual);
        writer.Write(c.UnpairedClients);
        writer.Write(c.UnpairedServers);
        writer.Write(c.PendingOverflow);
        writer.Write(c.Internal);
    }

    private void ReadCounters(BinaryReader reader)
    {
        var c = Counters;
        c.Spans = reader.ReadInt64();
        c.Invalid = reader.ReadInt64();
        c.Future = reader.ReadInt64();
        c.Late = reader.ReadInt64();
        c.Paired = reader.ReadInt64();
        c.Virtual = reader.ReadInt64();
        c.UnpairedClients = reader.ReadInt64();
        c.UnpairedServers = reader.ReadInt64();
        c.PendingOverflow = reader.ReadInt64();
        c.Internal = reader.ReadInt64();
    }

    private static void WriteIds(BinaryWriter writer, Dictionary<string, int> ids)
    {
        var keys = new List<string>(ids.Keys);
        keys.Sort(StringComparer.Ordinal);
        writer.Write(keys.Count);
        foreach (string key in keys)
        {
            writer.Write(key);
            writer.Write(ids[key]);
        }
    }

    private void ReadIds(BinaryReader reader, Dictionary<string, int> ids)
    {
        int n = StateFraming.ReadCount(reader, MaxSavedItems, "virtual node id");
        for (int i = 0; i < n; i++)
        {
            string key = reader.ReadString();
            ids.Add(key, ServiceIdOf(reader.ReadInt32()));
        }
    }

    private int ServiceIdOf(int id) =>
        id >= 0 && id < _services.Count ? id : throw new InvalidDataException($"A saved service id {id} is outside the {_services.Count} saved services.");

    private void ReadSeries(BinaryReader reader)
    {
        byte scopeByte = reader.ReadByte();
        if (scopeByte > (byte)RedScope.Edge)
        {
            throw new InvalidDataException($"Unknown saved RED series scope {scopeByte}.");
        }

        var scope = (RedScope)scopeByte;
        var owner = _services[ServiceIdOf(reader.ReadInt32())];
        string? scopeKey = StateFraming.ReadNullable(reader);
        string labels = reader.ReadString();
        string node = reader.ReadString();
        long edgeKey = reader.ReadInt64();
        if ((scope == RedScope.Service) != (scopeKey is null))
        {
            throw new InvalidDataException($"A saved {scope} series of {owner.Name} has {(scopeKey is null ? "no" : "a")} scope key.");
        }

        var series = NewSeries(scope, owner, scopeKey, labels, node, edgeKey);
        switch (scope)
        {
            case RedScope.Service:
                owner.Inbound = owner.Inbound is null ? series : throw new InvalidDataException($"{owner.Name} has two saved service series.");
                break;
            case RedScope.Operation:
                owner.Operations.Add(scopeKey!, series);
                break;
            case RedScope.Instance:
                owner.Instances.Add(scopeKey!, series);
                break;
            case RedScope.Edge:
                _edges.Add(edgeKey, series);
                series.Edge = Graph.TryGetEdge(owner.Name, node, out var edge) ? edge : null;
                break;
        }

        series.ReadState(reader);
    }

    /// <summary>Pending spans sorted by key (only looked up, never enumerated); the expiry queue in its order (it decides when each wait ends).</summary>
    private void WritePending(BinaryWriter writer)
    {
        WriteSorted(writer, _pendingClients, static (w, client) =>
        {
            w.Write(client.CallerId);
            w.Write(client.StartMs);
            w.Write(client.DurationMs);
            w.Write(client.Error);
            StateFraming.WriteId(w, client.TraceId);
            StateFraming.WriteNullable(w, client.PeerService);
            StateFraming.WriteNullable(w, client.ServerAddress);
            w.Write(client.DeadlineMs);
        });
        WriteSorted(writer, _pendingServers, static (w, server) =>
        {
            w.Write(server.CalleeId);
            w.Write(server.DeadlineMs);
        });

        writer.Write(_expiries.Count);
        foreach (var expiry in _expiries)
        {
            WriteKey(writer, expiry.Key);
            writer.Write(expiry.DeadlineMs);
            writer.Write(expiry.IsClient);
        }
    }

    private void ReadPending(BinaryReader reader)
    {
        int clients = StateFraming.ReadCount(reader, MaxSavedItems, "pending client span");
        for (int i = 0; i < clients; i++)
        {
            var key = ReadKey(reader);
            int caller = ServiceIdOf(reader.ReadInt32());
            long start = reader.ReadInt64();
            double duration = reader.ReadDouble();
            bool error = reader.ReadBoolean();
            var trace = StateFraming.ReadId(reader);
            string? peer = StateFraming.ReadNullable(reader);
            string? address = StateFraming.ReadNullable(reader);
            _pendingClients.Add(key, new PendingClient(caller, start, duration, error, trace, peer, address, reader.ReadInt64()));
        }

        int servers = StateFraming.ReadCount(reader, MaxSavedItems, "pending server span");
        for (int i = 0; i < servers; i++)
        {
            var key = ReadKey(reader);
            int callee = ServiceIdOf(reader.ReadInt32());
            _pendingServers.Add(key, new PendingServer(callee, reader.ReadInt64()));
        }

        int expiries = StateFraming.ReadCount(reader, MaxSavedItems, "pairing expiry");
        for (int i = 0; i < expiries; i++)
        {
            var key = ReadKey(reader);
            long deadline = reader.ReadInt64();
            _expiries.Enqueue(new PendingExpiry(key, deadline, reader.ReadBoolean()));
        }
    }

    private static void WriteSorted<T>(BinaryWriter writer, Dictionary<SpanKey, T> pending, Action<BinaryWriter, T> write)
    {
        var entries = new List<KeyValuePair<SpanKey, T>>(pending);
        entries.Sort(static (a, b) => CompareKeys(a.Key, b.Key));
        writer.Write(entries.Count);
        foreach (var (key, value) in entries)
        {
            WriteKey(writer, key);
            write(writer, value);
        }
    }

    private static int CompareKeys(SpanKey a, SpanKey b)
    {
        int c = a.TraceId.CompareTo(b.TraceId);
        return c != 0 ? c : a.SpanId.CompareTo(b.SpanId);
    }

    private static void WriteKey(BinaryWriter writer, SpanKey key)
    {
        StateFraming.WriteId(writer, key.TraceId);
        writer.Write(key.SpanId);
    }

    private static SpanKey ReadKey(BinaryReader reader)
    {
        var trace = StateFraming.ReadId(reader);
        return new SpanKey(trace, reader.ReadUInt64());
    }

    /// <summary>
    /// Graph facts collected since the last drain, in the order they were first touched: the
    /// drain enumerates them in that order, and it is the order the facts are written downstream.
    /// </summary>
    private void WriteFacts(BinaryWriter writer)
    {
        writer.Write(_touchedNodes.Count);
        foreach (int id in _touchedNodes)
        {
            writer.Write(id);
            writer.Write(_nodeSeen[id]);
        }

        writer.Write(_edgeFacts.Count);
        foreach (var (key, sum) in _edgeFacts)
        {
            writer.Write(key);
            writer.Write(sum.Calls);
            writer.Write(sum.Errors);
            writer.Write(sum.SeenMs);
        }

        writer.Write(_versionFacts.Count);
        foreach (var fact in _versionFacts)
        {
            writer.Write(_serviceIds[fact.Node]);
            WriteInstanceFact(writer, fact.Other!, new InstanceFactSpan(fact.Version, fact.FirstMs, fact.TimeMs));
        }

        writer.Write(_instanceFacts.Count);
        foreach (var (key, span) in _instanceFacts)
        {
            writer.Write(key.Service);
            WriteInstanceFact(writer, key.Instance, span);
        }
    }

    private static void WriteInstanceFact(BinaryWriter writer, string instance, in InstanceFactSpan span)
    {
        writer.Write(instance);
        StateFraming.WriteNullable(writer, span.Version);
        writer.Write(span.FirstMs);
        writer.Write(span.LastMs);
    }

    private void ReadFacts(BinaryReader reader)
    {
        int touched = StateFraming.ReadCount(reader, MaxSavedItems, "touched node");
        for (int i = 0; i < touched; i++)
        {
            int id = ServiceIdOf(reader.ReadInt32());
            NoteNode(id, reader.ReadInt64());
        }

        int edges = StateFraming.ReadCount(reader, MaxSavedItems, "edge fact");
        for (int i = 0; i < edges; i++)
        {
            long key = reader.ReadInt64();
            ServiceIdOf((int)(key >> 32));
            ServiceIdOf((int)(uint)key);
            _edgeFacts.Add(key, new EdgeFactSum { Calls = reader.ReadInt64(), Errors = reader.ReadInt64(), SeenMs = reader.ReadInt64() });
        }

        int versions = StateFraming.ReadCount(reader, MaxSavedItems, "version fact");
        for (int i = 0; i < versions; i++)
        {
            var (key, span) = ReadInstanceFact(reader);
            _versionFacts.Add(InstanceFact(key, span));
        }

        int instances = StateFraming.ReadCount(reader, MaxSavedItems, "instance fact");
        for (int i = 0; i < instances; i++)
        {
            var (key, span) = ReadInstanceFact(reader);
            _instanceFacts.Add(key, span);
        }
    }

    private ((int Service, string Instance) Key, InstanceFactSpan Span) ReadInstanceFact(BinaryReader reader)
    {
        int service = ServiceIdOf(reader.ReadInt32());
        string instance = reader.ReadString();
        string? version = StateFraming.ReadNullable(reader);
        long first = reader.ReadInt64();
        return ((service, instance), new InstanceFactSpan(version, first, reader.ReadInt64()));
    }
}
