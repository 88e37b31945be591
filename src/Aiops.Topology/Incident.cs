using Aiops.Core;

namespace Aiops.Topology;

/// <summary>Lifecycle state of an incident.</summary>
public enum IncidentState : byte
{
    /// <summary>Symptoms are still being seen (or were seen within the quiet time).</summary>
    Open = 0,

    /// <summary>No symptom for the configured quiet time.</summary>
    Resolved = 1,
}

/// <summary>What an <see cref="IncidentEvent"/> announces.</summary>
public enum IncidentEventKind : byte
{
    /// <summary>A new incident.</summary>
    Open = 0,

    /// <summary>More evidence: new nodes or signals, or a changed root-cause ranking.</summary>
    Update = 1,

    /// <summary>The incident's symptoms have been quiet for the configured time.</summary>
    Resolve = 2,
}

/// <summary>The remediation a hint proposes.</summary>
public enum RemediationKind : byte
{
    /// <summary>No rule matched: look at the evidence.</summary>
    Investigate = 0,

    /// <summary>A resource is saturated: add replicas or capacity.</summary>
    ScaleOut = 1,

    /// <summary>One replica deviates from its peers: shift traffic away from it or restart it.</summary>
    ShiftTrafficOrRestart = 2,

    /// <summary>Errors started right after a version change: roll the version back.</summary>
    Rollback = 3,

    /// <summary>Slowness with CPU pressure and no extra load: capture a CPU profile.</summary>
    CaptureProfile = 4,
}

/// <summary>One anomaly that is part of an incident, flattened for JSON.</summary>
public sealed record IncidentSignal
{
    /// <summary>The graph node the signal is about (the callee for edge series).</summary>
    public required string Node { get; init; }

    /// <summary>Service of the series.</summary>
    public required string Service { get; init; }

    /// <summary>Metric name of the series.</summary>
    public required string Metric { get; init; }

    /// <summary>Canonical labels of the series (may be empty).</summary>
    public string Labels { get; init; } = string.Empty;

    /// <summary>What the series measures.</summary>
    public MetricKind Kind { get; init; }

    /// <summary>The detector that fired.</summary>
    public DetectorKind Detector { get; init; }

    /// <summary>Which way the series moved.</summary>
    public Direction Direction { get; init; }

    /// <summary>Event time the anomalous behaviour started (Unix ms).</summary>
    public long SinceMs { get; init; }

    /// <summary>
    /// Event time of the first verdict for this series and detector (Unix ms); 0 when unknown
    /// (then <see cref="SinceMs"/> is taken as is).
    /// </summary>
    public long FirstSeenMs { get; init; }

    /// <summary>Event time of the latest verdict for this series and detector, or of the latest point that sustained it (Unix ms).</summary>
    public long LastSeenMs { get; init; }

    /// <summary>Number of verdicts merged into this signal (a persistent fault keeps firing; noise fires once).</summary>
    public int Verdicts { get; init; } = 1;

    /// <summary>Highest anomaly score seen, in [0, 1].</summary>
    public double Score { get; init; }

    /// <summary>Observed value at the highest-scoring verdict.</summary>
    public double Observed { get; init; }

    /// <summary>Expected value at that verdict.</summary>
    public double Expected { get; init; }

    /// <summary>The detector's sentence, if any.</summary>
    public string? Detail { get; init; }

    /// <summary>Exemplar trace ids (32 lower-case hex) from the verdicts or the RED buckets behind them.</summary>
    public IReadOnlyList<string> ExemplarTraceIds { get; init; } = [];
}

/// <summary>A ranked root-cause candidate with the evidence that put it there.</summary>
public sealed record RootCauseCandidate
{
    /// <summary>The graph node (service, <c>db:…</c>, <c>queue:…</c> or <c>ext:…</c>).</summary>
    public required string Node { get; init; }

    /// <summary>1 for the most likely cause.</summary>
    public int Rank { get; init; }

    /// <summary>Combined score in [0, 1]; higher is more likely.</summary>
    public double Score { get; init; }

    /// <summary>True for virtual (uninstrumented) nodes.</summary>
    public bool IsVirtual { get; init; }

    /// <summary>The node's own anomalous signals.</summary>
    public IReadOnlyList<IncidentSignal> Signals { get; init; } = [];

    /// <summary>Earliest onset among the node's signals (Unix ms).</summary>
    public long SinceMs { get; init; }

    /// <summary>Exemplar trace ids (32 lower-case hex) from the node's signals.</summary>
    public IReadOnlyList<string> ExemplarTraceIds { get; init; } = [];

    /// <summary>Nodes from the incident's main symptom down to this candidate (both included).</summary>
    public IReadOnlyList<string> Path { get; init; } = [];

    /// <summary>The remediation the evidence points at.</summary>
    public RemediationKind Remediation { get; init; }

    /// <summary>The hint as a sentence, with the facts behind it.</summary>
    public string RemediationHint { get; init; } = string.Empty;

    /// <summary>Score parts (severity, onset, explanation, random walk), each in [0, 1], for audit.</summary>
    public IReadOnlyDictionary<string, double> ScoreParts { get; init; } = new Dictionary<string, double>();
}

/// <summary>One problem: the anomalies that belong together and its ranked root causes.</summary>
public sealed record Incident
{
    /// <summary>Deterministic id from the first evidence (series, detector, time bucket), so a replay makes no second incident.</summary>
    public required string Id { get; init; }

    /// <summary>Lifecycle state.</summary>
    public IncidentState State { get; init; }

    /// <summary>Short human-readable summary.</summary>
    public string Title { get; init; } = string.Empty;

    /// <summary>Event time of the first evidence (Unix ms).</summary>
    public long FirstEvidenceMs { get; init; }

    /// <summary>Event time of the latest evidence (Unix ms).</summary>
    public long LastEvidenceMs { get; init; }

    /// <summary>Event time the incident was opened (Unix ms).</summary>
    public long OpenedMs { get; init; }

    /// <summary>Event time it was resolved (Unix ms), null while open.</summary>
    public long? ResolvedMs { get; init; }

    /// <summary>The node whose symptom is the most upstream (what users notice).</summary>
    public string Symptom { get; init; } = string.Empty;

    /// <summary>Graph nodes with active anomalies in this incident (verdict within the signal TTL), sorted.</summary>
    public IReadOnlyList<string> Nodes { get; init; } = [];

    /// <summary>The active anomalies, one per series and detector (verdict within the signal TTL).</summary>
    public IReadOnlyList<IncidentSignal> Signals { get; init; } = [];

    /// <summary>Ranked root-cause candidates, most likely first.</summary>
    public IReadOnlyList<RootCauseCandidate> RootCauses { get; init; } = [];
}

/// <summary>An incident lifecycle event, as published to the alerting topic.</summary>
public sealed record IncidentEvent
{
    /// <summary>Open, update or resolve.</summary>
    public required IncidentEventKind Kind { get; init; }

    /// <summary>Event time of the event (Unix ms).</summary>
    public required long TimestampMs { get; init; }

    /// <summary>The incident as of this event.</summary>
    public required Incident Incident { get; init; }
}
