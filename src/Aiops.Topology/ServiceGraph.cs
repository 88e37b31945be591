using QuikGraph;

namespace Aiops.Topology;

/// <summary>What a graph node stands for.</summary>
public enum NodeKind : byte
{
    /// <summary>An instrumented service (it emits its own spans).</summary>
    Service = 0,

    /// <summary>An uninstrumented database seen through its clients' <c>db.system</c>.</summary>
    Database = 1,

    /// <summary>A message broker seen through <c>messaging.system</c>.</summary>
    Queue = 2,

    /// <summary>An uninstrumented remote host or service (<c>peer.service</c> / <c>server.address</c>).</summary>
    External = 3,
}

/// <summary>One replica of a service and the version it last reported.</summary>
public sealed class ServiceInstanceInfo
{
    internal ServiceInstanceInfo(string instance, string? version, long seenMs)
    {
        Instance = instance;
        Version = version;
        FirstSeenMs = seenMs;
        LastSeenMs = seenMs;
        VersionSinceMs = seenMs;
    }

    /// <summary>The <c>service.instance.id</c>.</summary>
    public string Instance { get; }

    /// <summary>The <c>service.version</c> it reported last, if any.</summary>
    public string? Version { get; internal set; }

    /// <summary>The version it reported before <see cref="Version"/>, if it changed.</summary>
    public string? PreviousVersion { get; internal set; }

    /// <summary>Event time the instance was first seen (ms).</summary>
    public long FirstSeenMs { get; }

    /// <summary>Event time of the instance's latest span (ms).</summary>
    public long LastSeenMs { get; internal set; }

    /// <summary>Event time <see cref="Version"/> was first seen on this instance (ms).</summary>
    public long VersionSinceMs { get; internal set; }

    /// <summary>Median latency (ms) of the replica's latest closed RED bucket (or window); NaN until one closed.</summary>
    public double LatencyP50Ms { get; internal set; } = double.NaN;

    /// <summary>Failed share of the replica's requests in that bucket (or window); NaN until one closed.</summary>
    public double ErrorRatio { get; internal set; } = double.NaN;

    /// <summary>Start (Unix ms) of the bucket <see cref="LatencyP50Ms"/> and <see cref="ErrorRatio"/> are from.</summary>
    public long RedBucketMs { get; internal set; } = long.MinValue;
}

/// <summary>A node of the service graph with the identity facts remediation hints need.</summary>
public sealed class ServiceNode
{
    private readonly Dictionary<string, ServiceInstanceInfo> _instances = new(StringComparer.Ordinal);

    internal ServiceNode(string name, NodeKind kind, long seenMs)
    {
        Name = name;
        Kind = kind;
        FirstSeenMs = seenMs;
        LastSeenMs = seenMs;
    }

    /// <summary>Node name: the service name, or <c>db:…</c>, <c>queue:…</c>, <c>ext:…</c> for virtual nodes.</summary>
    public string Name { get; }

    /// <summary>What the node stands for.</summary>
    public NodeKind Kind { get; }

    /// <summary>True for nodes inferred from their clients (databases, queues, external hosts).</summary>
    public bool IsVirtual => Kind != NodeKind.Service;

    /// <summary>Event time the node was first seen (ms).</summary>
    public long FirstSeenMs { get; }

    /// <summary>Event time of the node's latest span or call (ms).</summary>
    public long LastSeenMs { get; internal set; }

    /// <summary>The version most recently first seen on any instance.</summary>
    public string? LatestVersion { get; internal set; }

    /// <summary>The version that <see cref="LatestVersion"/> replaced, if any.</summary>
    public string? PreviousVersion { get; internal set; }

    /// <summary>Event time of the latest version change on any instance (ms); null if none was seen.</summary>
    public long? LastVersionChangeMs { get; internal set; }

    /// <summary>Set when the node aged out of its graph, so holders of the object re-add it.</summary>
    internal bool Removed { get; set; }

    /// <summary>Known replicas, keyed by instance id.</summary>
    public IReadOnlyDictionary<string, ServiceInstanceInfo> Instances => _instances;

    internal ServiceInstanceInfo TouchInstance(string instance, string? version, long seenMs)
    {
        if (!_instances.TryGetValue(instance, out var info))
        {
            info = new ServiceInstanceInfo(instance, version, seenMs);
            _instances.Add(instance, info);
            if (version is not null && LatestVersion is null)
            {
                LatestVersion = version;
            }
            else if (version is not null && !string.Equals(version, LatestVersion, StringComparison.Ordinal))
            {
                NoteVersionChange(version, seenMs);
            }

            return info;
        }

        TouchInstance(info, version, seenMs);
        return info;
    }

    internal void TouchInstance(ServiceInstanceInfo info, string? version, long seenMs)
    {
        if (seenMs > info.LastSeenMs)
        {
            info.LastSeenMs = seenMs;
        }

        if (version is not null && !ReferenceEquals(version, info.Version) && !string.Equals(version, info.Version, StringComparison.Ordinal))
        {
            info.PreviousVersion = info.Version;
            info.Version = version;
            info.VersionSinceMs = seenMs;
            if (!string.Equals(version, LatestVersion, StringComparison.Ordinal))
            {
                NoteVersionChange(version, seenMs);
            }
        }
    }

    internal void RemoveIdleInstances(long cutoffMs)
    {
        List<string>? idle = null;
        foreach (var pair in _instances)
        {
            if (pair.Value.LastSeenMs < cutoffMs)
            {
                (idle ??= []).Add(pair.Key);
            }
        }

        if (idle is not null)
        {
            foreach (string key in idle)
            {
                _instances.Remove(key);
            }
        }
    }

    internal void RestoreInstance(ServiceInstanceInfo info)
    {
        if (!_instances.TryAdd(info.Instance, info))
        {
            throw new InvalidDataException($"Service graph state repeats instance '{info.Instance}' of {Name}.");
        }
    }

    private void NoteVersionChange(string version, long seenMs)
    {
        PreviousVersion = LatestVersion;
        LatestVersion = version;
        LastVersionChangeMs = seenMs;
    }
}

/// <summary>A caller → callee edge with its traffic in the latest closed bucket.</summary>
public sealed class ServiceEdge : IEdge<string>
{
    internal ServiceEdge(string source, string target, long seenMs)
    {
        Source = source;
        Target = target;
        FirstSeenMs = seenMs;
        LastSeenMs = seenMs;
    }

    /// <summary>The caller node.</summary>
    public string Source { get; }

    /// <summary>The callee node.</summary>
    public string Target { get; }

    /// <summary>Event time the edge was first seen (ms).</summary>
    public long FirstSeenMs { get; }

    /// <summary>Event time of the latest call (ms).</summary>
    public long LastSeenMs { get; internal set; }

    /// <summary>Calls seen since the edge appeared.</summary>
    public long TotalCalls { get; internal set; }

    /// <summary>Failed calls seen since the edge appeared.</summary>
    public long TotalErrors { get; internal set; }

    /// <summary>Calls per second in the latest closed bucket.</summary>
    public double CallRate { get; internal set; }

    /// <summary>Failed fraction in the latest closed bucket.</summary>
    public double ErrorRate { get; internal set; }

    /// <summary>P99 latency (ms, client side) in the latest closed bucket.</summary>
    public double LatencyP99Ms { get; internal set; }

    /// <summary>Set when the edge aged out of its graph, so holders of the object re-add it.</summary>
    internal bool Removed { get; set; }

    /// <summary>
    /// Creation order in its graph: a restored graph re-adds its edges in this order, so every
    /// node's in- and out-edge lists (which break ties in <see cref="ServiceGraph.FindPath"/>) are
    /// the saved graph's.
    /// </summary>
    internal long Sequence { get; set; }
}

/// <summary>
/// The service-dependency graph: caller → callee edges over services and virtual nodes, on a
/// QuikGraph <see cref="BidirectionalGraph{TVertex, TEdge}"/> so both callers (in-edges) and
/// callees (out-edges) of a node are O(degree). Not thread-safe: one pipeline owns it.
/// </summary>
public sealed class ServiceGraph
{
    private readonly BidirectionalGraph<string, ServiceEdge> _graph = new(allowParallelEdges: false);
    private readonly Dictionary<string, ServiceNode> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Caller, string Callee), ServiceEdge> _edges = new();
    private const uint StateMagic = 0x52475341; // "ASGR"
    private const int StateVersion = 1;
    private const string StateName = "service graph state";
    private const int MaxEntries = 1 << 24;

    private long _nextEdgeSequence;

    /// <summary>Number of nodes.</summary>
    public int NodeCount => _nodes.Count;

    /// <summary>Number of edges.</summary>
    public int EdgeCount => _edges.Count;

    /// <summary>All nodes.</summary>
    public IEnumerable<ServiceNode> Nodes => _nodes.Values;

    /// <summary>All edges.</summary>
    public IEnumerable<ServiceEdge> Edges => _edges.Values;

    /// <summary>The underlying QuikGraph graph, read-only by contract (for algorithms the class does not wrap).</summary>
    public IBidirectionalGraph<string, ServiceEdge> Graph => _graph;

    /// <summary>Adds a node (or refreshes its last-seen time) and returns it.</summary>
    public ServiceNode AddNode(string name, long seenMs)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (_nodes.TryGetValue(name, out var node))
        {
            if (seenMs > node.LastSeenMs)
            {
                node.LastSeenMs = seenMs;
            }

            return node;
        }

        node = new ServiceNode(name, KindOf(name), seenMs);
        _nodes.Add(name, node);
        _graph.AddVertex(name);
        return node;
    }

    /// <summary>Adds a caller → callee edge (and its nodes) or refreshes its last-seen time.</summary>
    public ServiceEdge AddEdge(string caller, string callee, long seenMs)
    {
        ArgumentException.ThrowIfNullOrEmpty(caller);
        ArgumentException.ThrowIfNullOrEmpty(callee);
        AddNode(caller, seenMs);
        AddNode(callee, seenMs);
        if (_edges.TryGetValue((caller, callee), out var edge))
        {
            if (seenMs > edge.LastSeenMs)
            {
                edge.LastSeenMs = seenMs;
            }

            return edge;
        }

        edge = new ServiceEdge(caller, callee, seenMs) { Sequence = _nextEdgeSequence++ };
        _edges.Add((caller, callee), edge);
        _graph.AddEdge(edge);
        return edge;
    }

    /// <summary>
    /// Applies a fact another stage observed (see <see cref="GraphFact"/>): the correlation stage
    /// builds its graph from the facts of every input partition instead of from the spans.
    /// </summary>
    public void Apply(GraphFact fact)
    {
        ArgumentNullException.ThrowIfNull(fact);
        switch (fact.Kind)
        {
            case GraphFactKind.Node:
                AddNode(fact.Node, fact.TimeMs);
                break;
            case GraphFactKind.Edge when fact.Other is { Length: > 0 } callee:
                var edge = AddEdge(fact.Node, callee, fact.TimeMs);
                edge.TotalCalls += fact.Calls;
                edge.TotalErrors += fact.Errors;
                break;
            case GraphFactKind.Instance when fact.Other is { Length: > 0 } instance:
                if (!_nodes.TryGetValue(fact.Node, out var owner))
                {
                    owner = AddNode(fact.Node, fact.FirstMs);
                }

                var info = owner.TouchInstance(instance, fact.Version, fact.FirstMs);
                owner.TouchInstance(info, fact.Version, fact.TimeMs);
                break;
            case GraphFactKind.Replica when fact.Other is { Length: > 0 } replica:
                if (_nodes.TryGetValue(fact.Node, out var node) && node.Instances.TryGetValue(replica, out var stats))
                {
                    stats.LatencyP50Ms = fact.LatencyP50Ms;
                    stats.ErrorRatio = fact.ErrorRatio;
                    stats.RedBucketMs = fact.TimeMs;
                }

                break;
        }
    }

    /// <summary>True when the node is in the graph.</summary>
    public bool ContainsNode(string name) => _nodes.ContainsKey(name);

    /// <summary>The node, if present.</summary>
    public bool TryGetNode(string name, out ServiceNode node) => _nodes.TryGetValue(name, out node!);

    /// <summary>The edge, if present.</summary>
    public bool TryGetEdge(string caller, string callee, out ServiceEdge edge) => _edges.TryGetValue((caller, callee), out edge!);

    /// <summary>Nodes that call <paramref name="node"/> (in-edges), sorted ordinally for determinism.</summary>
    public IReadOnlyList<string> Callers(string node)
    {
        if (!_nodes.ContainsKey(node))
        {
            return [];
        }

        var result = new List<string>();
        foreach (var edge in _graph.InEdges(node))
        {
            result.Add(edge.Source);
        }

        result.Sort(StringComparer.Ordinal);
        return result;
    }

    /// <summary>Nodes that <paramref name="node"/> calls (out-edges), sorted ordinally for determinism.</summary>
    public IReadOnlyList<string> Callees(string node)
    {
        if (!_nodes.ContainsKey(node))
        {
            return [];
        }

        var result = new List<string>();
        foreach (var edge in _graph.OutEdges(node))
        {
            result.Add(edge.Target);
        }

        result.Sort(StringComparer.Ordinal);
        return result;
    }

    /// <summary>
    /// Shortest path from <paramref name="from"/> to <paramref name="to"/> (both included) by
    /// breadth-first search, following call direction when <paramref name="directed"/>, else
    /// either direction. Null when there is none within <paramref name="maxHops"/>.
    /// </summary>
    public IReadOnlyList<string>? FindPath(string from, string to, bool directed = true, int maxHops = int.MaxValue)
    {
        if (!_nodes.ContainsKey(from) || !_nodes.ContainsKey(to))
        {
            return null;
        }

        if (string.Equals(from, to, StringComparison.Ordinal))
        {
            return [from];
        }

        var previous = new Dictionary<string, string>(StringComparer.Ordinal) { [from] = from };
        var frontier = new List<string> { from };
        var next = new List<string>();
        for (int hop = 0; hop < maxHops && frontier.Count > 0; hop++)
        {
            next.Clear();
            foreach (string node in frontier)
            {
                foreach (string neighbour in Neighbours(node, directed))
                {
                    if (previous.TryAdd(neighbour, node))
                    {
                        if (string.Equals(neighbour, to, StringComparison.Ordinal))
                        {
                            var path = new List<string> { to };
                            string at = to;
                            while (!string.Equals(at, from, StringComparison.Ordinal))
                            {
                                at = previous[at];
                                path.Add(at);
                            }

                            path.Reverse();
                            return path;
                        }

                        next.Add(neighbour);
                    }
                }
            }

            (frontier, next) = (next, frontier);
        }

        return null;
    }

    /// <summary>Nodes within <paramref name="maxHops"/> of <paramref name="node"/> in either direction, itself included.</summary>
    public HashSet<string> Neighbourhood(string node, int maxHops)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { node };
        if (!_nodes.ContainsKey(node))
        {
            return seen;
        }

        var frontier = new List<string> { node };
        var next = new List<string>();
        for (int hop = 0; hop < maxHops && frontier.Count > 0; hop++)
        {
            next.Clear();
            foreach (string at in frontier)
            {
                foreach (string neighbour in Neighbours(at, directed: false))
                {
                    if (seen.Add(neighbour))
                    {
                        next.Add(neighbour);
                    }
                }
            }

            (frontier, next) = (next, frontier);
        }

        return seen;
    }

    /// <summary>Hops between two nodes ignoring direction, or -1 when more than <paramref name="maxHops"/> apart.</summary>
    public int HopDistance(string a, string b, int maxHops)
    {
        var path = FindPath(a, b, directed: false, maxHops);
        return path is null ? -1 : path.Count - 1;
    }

    /// <summary>
    /// Removes edges, then nodes, whose last traffic is older than <paramref name="cutoffMs"/>;
    /// returns how many edges and nodes went.
    /// </summary>
    public (int Edges, int Nodes) RemoveIdle(long cutoffMs)
    {
        List<ServiceEdge>? idleEdges = null;
        foreach (var edge in _edges.Values)
        {
            if (edge.LastSeenMs < cutoffMs)
            {
                (idleEdges ??= []).Add(edge);
            }
        }

        if (idleEdges is not null)
        {
            foreach (var edge in idleEdges)
            {
                _edges.Remove((edge.Source, edge.Target));
                _graph.RemoveEdge(edge);
                edge.Removed = true;
            }
        }

        List<string>? idleNodes = null;
        foreach (var node in _nodes.Values)
        {
            if (node.LastSeenMs < cutoffMs && _graph.Degree(node.Name) == 0)
            {
                (idleNodes ??= []).Add(node.Name);
            }
            else
            {
                node.RemoveIdleInstances(cutoffMs);
            }
        }

        if (idleNodes is not null)
        {
            foreach (string name in idleNodes)
            {
                _nodes[name].Removed = true;
                _nodes.Remove(name);
                _graph.RemoveVertex(name);
            }
        }

        return (idleEdges?.Count ?? 0, idleNodes?.Count ?? 0);
    }

    /// <summary>
    /// Writes the graph (nodes with their replicas sorted by name, edges in creation order) as a
    /// section with magic <c>ASGR</c>, so a restored correlator ranks on the same graph; O(nodes + edges).
    /// </summary>
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        StateFraming.WriteHeader(writer, StateMagic, StateVersion);
        var names = new List<string>(_nodes.Keys);
        names.Sort(StringComparer.Ordinal);
        writer.Write(names.Count);
        foreach (string name in names)
        {
            var node = _nodes[name];
            writer.Write(node.Name);
            writer.Write(node.FirstSeenMs);
            writer.Write(node.LastSeenMs);
            StateFraming.WriteNullable(writer, node.LatestVersion);
            StateFraming.WriteNullable(writer, node.PreviousVersion);
            writer.Write(node.LastVersionChangeMs.HasValue);
            writer.Write(node.LastVersionChangeMs.GetValueOrDefault());
            var instances = new List<string>(node.Instances.Keys);
            instances.Sort(StringComparer.Ordinal);
            writer.Write(instances.Count);
            foreach (string instance in instances)
            {
                var info = node.Instances[instance];
                writer.Write(info.Instance);
                StateFraming.WriteNullable(writer, info.Version);
                StateFraming.WriteNullable(writer, info.PreviousVersion);
                writer.Write(info.FirstSeenMs);
                writer.Write(info.LastSeenMs);
                writer.Write(info.VersionSinceMs);
                writer.Write(info.LatencyP50Ms);
                writer.Write(info.ErrorRatio);
                writer.Write(info.RedBucketMs);
            }
        }

        var edges = new List<ServiceEdge>(_edges.Values);
        edges.Sort(static (a, b) => a.Sequence.CompareTo(b.Sequence));
        writer.Write(edges.Count);
        foreach (var edge in edges)
        {
            writer.Write(edge.Source);
            writer.Write(edge.Target);
            writer.Write(edge.Sequence);
            writer.Write(edge.FirstSeenMs);
            writer.Write(edge.LastSeenMs);
            writer.Write(edge.TotalCalls);
            writer.Write(edge.TotalErrors);
            writer.Write(edge.CallRate);
            writer.Write(edge.ErrorRate);
            writer.Write(edge.LatencyP99Ms);
        }

        writer.Write(_nextEdgeSequence);
        StateFraming.WriteEnd(writer, StateMagic);
    }

    /// <summary>
    /// Loads a graph written by <see cref="SaveState"/> into this empty graph; throws
    /// <see cref="InvalidDataException"/> on a bad, truncated or foreign section, or when the graph
    /// is not empty.
    /// </summary>
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (_nodes.Count > 0)
        {
            throw new InvalidOperationException("A service graph state loads into an empty graph only.");
        }

        StateFraming.Read(reader, StateMagic, StateVersion, StateName, _ =>
        {
            int nodes = StateFraming.ReadCount(reader, MaxEntries, "graph node");
            for (int n = 0; n < nodes; n++)
            {
                string name = reader.ReadString();
                if (name.Length == 0 || _nodes.ContainsKey(name))
                {
                    throw new InvalidDataException($"The {StateName} has an empty or repeated node name '{name}'.");
                }

                var node = new ServiceNode(name, KindOf(name), reader.ReadInt64()) { LastSeenMs = reader.ReadInt64() };
                node.LatestVersion = StateFraming.ReadNullable(reader);
                node.PreviousVersion = StateFraming.ReadNullable(reader);
                bool changed = reader.ReadBoolean();
                long changeMs = reader.ReadInt64();
                node.LastVersionChangeMs = changed ? changeMs : null;
                int instances = StateFraming.ReadCount(reader, MaxEntries, "instance");
                for (int i = 0; i < instances; i++)
                {
                    string instance = reader.ReadString();
                    string? version = StateFraming.ReadNullable(reader);
                    string? previous = StateFraming.ReadNullable(reader);
                    var info = new ServiceInstanceInfo(instance, version, reader.ReadInt64())
                    {
                        PreviousVersion = previous,
                        LastSeenMs = reader.ReadInt64(),
                        VersionSinceMs = reader.ReadInt64(),
                        LatencyP50Ms = reader.ReadDouble(),
                        ErrorRatio = reader.ReadDouble(),
                        RedBucketMs = reader.ReadInt64(),
                    };
                    node.RestoreInstance(info);
                }

                _nodes.Add(name, node);
                _graph.AddVertex(name);
            }

            int edges = StateFraming.ReadCount(reader, MaxEntries, "graph edge");
            for (int e = 0; e < edges; e++)
            {
                string source = reader.ReadString();
                string target = reader.ReadString();
                if (!_nodes.ContainsKey(source) || !_nodes.ContainsKey(target) || _edges.ContainsKey((source, target)))
                {
                    throw new InvalidDataException($"The {StateName} has an edge {source} -> {target} between unknown nodes or twice.");
                }

                long sequence = reader.ReadInt64();
                var edge = new ServiceEdge(source, target, reader.ReadInt64())
                {
                    Sequence = sequence,
                    LastSeenMs = reader.ReadInt64(),
                    TotalCalls = reader.ReadInt64(),
                    TotalErrors = reader.ReadInt64(),
                    CallRate = reader.ReadDouble(),
                    ErrorRate = reader.ReadDouble(),
                    LatencyP99Ms = reader.ReadDouble(),
                };
                _edges.Add((source, target), edge);
                _graph.AddEdge(edge);
            }

            _nextEdgeSequence = reader.ReadInt64();
        });
    }

    internal static NodeKind KindOf(string name) =>
        name.StartsWith(RedMetrics.DatabasePrefix, StringComparison.Ordinal) ? NodeKind.Database
        : name.StartsWith(RedMetrics.QueuePrefix, StringComparison.Ordinal) ? NodeKind.Queue
        : name.StartsWith(RedMetrics.ExternalPrefix, StringComparison.Ordinal) ? NodeKind.External
        : NodeKind.Service;

    private IEnumerable<string> Neighbours(string node, bool directed)
    {
        foreach (var edge in _graph.OutEdges(node))
        {
            yield return edge.Target;
        }

        if (!directed)
        {
            foreach (var edge in _graph.InEdges(node))
            {
                yield return edge.Source;
            }
        }
    }
}
