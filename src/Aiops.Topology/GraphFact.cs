namespace Aiops.Topology;

/// <summary>What a <see cref="GraphFact"/> tells the service graph.</summary>
public enum GraphFactKind : byte
{
    /// <summary>A node had traffic (<see cref="GraphFact.Node"/>, last seen at <see cref="GraphFact.TimeMs"/>).</summary>
    Node = 0,

    /// <summary>Calls on the edge <see cref="GraphFact.Node"/> → <see cref="GraphFact.Other"/> (calls, errors, last seen).</summary>
    Edge = 1,

    /// <summary>Instance <see cref="GraphFact.Other"/> of <see cref="GraphFact.Node"/> ran <see cref="GraphFact.Version"/> from <see cref="GraphFact.FirstMs"/> to <see cref="GraphFact.TimeMs"/>.</summary>
    Instance = 2,

    /// <summary>The latest closed RED bucket of instance <see cref="GraphFact.Other"/> (median latency and error ratio, for replica drift hints).</summary>
    Replica = 3,
}

/// <summary>
/// One change to the service graph, as the ingest stage saw it in its partition's spans (or the
/// per-service stage in its merged buckets); the correlation stage applies the facts of every
/// partition to its own graph in event-time order (see <see cref="ServiceGraph.Apply"/>). Facts are
/// accumulated per tick (one per touched node, edge and instance version), not per span.
/// </summary>
public sealed record GraphFact
{
    /// <summary>What the fact says.</summary>
    public required GraphFactKind Kind { get; init; }

    /// <summary>The node (service, or the caller of an edge).</summary>
    public required string Node { get; init; }

    /// <summary>The callee of an edge or the instance id; null for a node fact.</summary>
    public string? Other { get; init; }

    /// <summary>The instance's version (instance facts), if the spans named one.</summary>
    public string? Version { get; init; }

    /// <summary>Event time the fact is as of (last seen; the bucket start for replica facts), Unix ms.</summary>
    public required long TimeMs { get; init; }

    /// <summary>First time the instance was seen with <see cref="Version"/> in this tick (instance facts).</summary>
    public long FirstMs { get; init; }

    /// <summary>Calls on the edge since the previous fact.</summary>
    public long Calls { get; init; }

    /// <summary>Failed calls on the edge since the previous fact.</summary>
    public long Errors { get; init; }

    /// <summary>Median latency of the replica's latest closed bucket (ms).</summary>
    public double LatencyP50Ms { get; init; } = double.NaN;

    /// <summary>Error ratio of the replica's latest closed bucket.</summary>
    public double ErrorRatio { get; init; } = double.NaN;
}
