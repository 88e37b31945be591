using Aiops.Core;

namespace Aiops.Pipeline;

/// <summary>What happened to an incident at the moment an <see cref="IncidentEvent"/> was emitted.</summary>
public enum IncidentEventKind : byte
{
    /// <summary>The first evidence formed a new incident.</summary>
    Open = 0,

    /// <summary>New evidence joined the incident, or the ranking of its root causes changed.</summary>
    Update = 1,

    /// <summary>Every symptom of the incident returned to its baseline.</summary>
    Resolve = 2,
}

/// <summary>
/// One ranked root-cause candidate of an incident, flattened into plain data so the worker can
/// serialise it (JSON to <c>aiops.incidents</c>) without depending on topology's internal types.
/// </summary>
public sealed record RankedCause
{
    /// <summary>The candidate node: a service name, or a virtual node (database, queue, host).</summary>
    public required string Node { get; init; }

    /// <summary>1 for the most likely cause.</summary>
    public required int Rank { get; init; }

    /// <summary>The ranking score (higher is more likely), comparable within one incident only.</summary>
    public required double Score { get; init; }

    /// <summary>Event time (Unix ms) of the earliest anomaly on this node.</summary>
    public long OnsetMs { get; init; }

    /// <summary>The anomalies on this node that support the candidate.</summary>
    public IReadOnlyList<Anomaly> Evidence { get; init; } = [];

    /// <summary>The call path from the loudest symptom down to this node (symptom first).</summary>
    public IReadOnlyList<string> Path { get; init; } = [];

    /// <summary>Trace ids (lower-case hex) that illustrate the problem on this node.</summary>
    public IReadOnlyList<string> ExemplarTraceIds { get; init; } = [];

    /// <summary>A remediation hint derived from the evidence (e.g. "scale out", "roll back"), if any.</summary>
    public string? Hint { get; init; }
}

/// <summary>
/// An incident lifecycle event: open, update or resolve, with the ranked root causes as known at
/// <see cref="TimestampMs"/>. The id is deterministic from the incident's first evidence, so
/// feeding the same data twice yields the same ids (the worker relies on it for at-least-once
/// delivery without duplicates).
/// </summary>
public sealed record IncidentEvent
{
    /// <summary>Open, update or resolve.</summary>
    public required IncidentEventKind Kind { get; init; }

    /// <summary>Deterministic incident id.</summary>
    public required string IncidentId { get; init; }

    /// <summary>Event time (Unix ms) this event describes.</summary>
    public required long TimestampMs { get; init; }

    /// <summary>Event time (Unix ms) of the incident's first evidence.</summary>
    public required long OpenedAtMs { get; init; }

    /// <summary>Event time (Unix ms) the incident resolved; null while open.</summary>
    public long? ResolvedAtMs { get; init; }

    /// <summary>A one-line description of the loudest symptom.</summary>
    public required string Summary { get; init; }

    /// <summary>The services and virtual nodes with anomalies in this incident.</summary>
    public IReadOnlyList<string> AffectedNodes { get; init; } = [];

    /// <summary>Ranked root-cause candidates, most likely first.</summary>
    public IReadOnlyList<RankedCause> RootCauses { get; init; } = [];

    /// <summary>All anomalies the incident has gathered so far.</summary>
    public IReadOnlyList<Anomaly> Anomalies { get; init; } = [];
}
