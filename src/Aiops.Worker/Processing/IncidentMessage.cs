using System.Text.Json;
using System.Text.Json.Serialization;

namespace Aiops.Worker.Processing;

/// <summary>
/// One incident event as produced to <c>aiops.incidents</c> (JSON, UTF-8, keyed by
/// <see cref="IncidentId"/>). The contract is frozen in <c>schemas/incident.schema.json</c> and
/// described in <c>docs/incidents.md</c>; a change here needs a schema version bump.
/// </summary>
public sealed record IncidentMessage
{
    /// <summary>Schema version of this message (1).</summary>
    [JsonPropertyName("schemaVersion")]
    public int SchemaVersion { get; init; } = 1;

    /// <summary>Deterministic incident id: a replayed record never makes a second incident.</summary>
    [JsonPropertyName("incidentId")]
    public required string IncidentId { get; init; }

    /// <summary><c>open</c>, <c>update</c> or <c>resolve</c>.</summary>
    [JsonPropertyName("event")]
    public required string Event { get; init; }

    /// <summary>Event time of this incident event (Unix ms, from the data).</summary>
    [JsonPropertyName("eventTimeMs")]
    public required long EventTimeMs { get; init; }

    /// <summary>Event time the incident opened (Unix ms).</summary>
    [JsonPropertyName("openedAtMs")]
    public required long OpenedAtMs { get; init; }

    /// <summary>Event time the incident resolved (Unix ms), on <c>resolve</c> events only.</summary>
    [JsonPropertyName("resolvedAtMs")]
    public long? ResolvedAtMs { get; init; }

    /// <summary>The user-facing symptom, one sentence.</summary>
    [JsonPropertyName("symptom")]
    public required string Symptom { get; init; }

    /// <summary>Services with anomalies in this incident.</summary>
    [JsonPropertyName("services")]
    public IReadOnlyList<string> Services { get; init; } = [];

    /// <summary>Ranked root-cause candidates, most likely first.</summary>
    [JsonPropertyName("rootCauses")]
    public IReadOnlyList<RootCauseMessage> RootCauses { get; init; } = [];

    /// <summary>The anomalies grouped into this incident (strongest first, at most a few dozen).</summary>
    [JsonPropertyName("anomalies")]
    public IReadOnlyList<AnomalyMessage> Anomalies { get; init; } = [];

    /// <summary>What an operator should look at first.</summary>
    [JsonPropertyName("remediationHint")]
    public string? RemediationHint { get; init; }
}

/// <summary>One ranked root-cause candidate.</summary>
public sealed record RootCauseMessage
{
    /// <summary>1-based rank.</summary>
    [JsonPropertyName("rank")]
    public required int Rank { get; init; }

    /// <summary>The service (graph node) suspected.</summary>
    [JsonPropertyName("service")]
    public required string Service { get; init; }

    /// <summary>Ranking score (higher is more likely; comparable within one incident only).</summary>
    [JsonPropertyName("score")]
    public required double Score { get; init; }

    /// <summary>Event time (Unix ms) of the earliest anomaly on this node.</summary>
    [JsonPropertyName("onsetMs")]
    public long OnsetMs { get; init; }

    /// <summary>Human-readable evidence sentences, one per supporting anomaly.</summary>
    [JsonPropertyName("evidence")]
    public IReadOnlyList<string> Evidence { get; init; } = [];

    /// <summary>Call path from the loudest symptom down to this node (symptom first).</summary>
    [JsonPropertyName("path")]
    public IReadOnlyList<string> Path { get; init; } = [];

    /// <summary>Trace ids (lower-case hex) illustrating the problem on this node.</summary>
    [JsonPropertyName("exemplarTraceIds")]
    public IReadOnlyList<string> ExemplarTraceIds { get; init; } = [];

    /// <summary>Remediation hint for this candidate, if any.</summary>
    [JsonPropertyName("hint")]
    public string? Hint { get; init; }
}

/// <summary>One anomaly verdict inside an incident, with its evidence.</summary>
public sealed record AnomalyMessage
{
    /// <summary>Service of the series.</summary>
    [JsonPropertyName("service")]
    public required string Service { get; init; }

    /// <summary>Metric name.</summary>
    [JsonPropertyName("metric")]
    public required string Metric { get; init; }

    /// <summary>Canonical label string (<c>k=v,…</c>), empty when none.</summary>
    [JsonPropertyName("labels")]
    public string Labels { get; init; } = "";

    /// <summary>Detector that fired (e.g. <c>Spike</c>, <c>LevelShift</c>).</summary>
    [JsonPropertyName("detector")]
    public required string Detector { get; init; }

    /// <summary>Event time of the verdict (Unix ms).</summary>
    [JsonPropertyName("timestampMs")]
    public required long TimestampMs { get; init; }

    /// <summary>Observed value.</summary>
    [JsonPropertyName("observed")]
    public required double Observed { get; init; }

    /// <summary>Expected value.</summary>
    [JsonPropertyName("expected")]
    public required double Expected { get; init; }

    /// <summary>Lower edge of the normal band.</summary>
    [JsonPropertyName("lower")]
    public required double Lower { get; init; }

    /// <summary>Upper edge of the normal band.</summary>
    [JsonPropertyName("upper")]
    public required double Upper { get; init; }

    /// <summary>p-value of the observation under the baseline.</summary>
    [JsonPropertyName("pValue")]
    public required double PValue { get; init; }

    /// <summary>Score in [0, 1].</summary>
    [JsonPropertyName("score")]
    public required double Score { get; init; }

    /// <summary><c>up</c>, <c>down</c> or <c>none</c>.</summary>
    [JsonPropertyName("direction")]
    public string Direction { get; init; } = "none";

    /// <summary>Detector-specific detail sentence, if any.</summary>
    [JsonPropertyName("detail")]
    public string? Detail { get; init; }
}

/// <summary>Serialisation of <see cref="IncidentMessage"/> with source-generated metadata (no reflection per message).</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(IncidentMessage))]
internal sealed partial class IncidentJsonContext : JsonSerializerContext
{
    /// <summary>UTF-8 JSON of one message, as produced to the topic.</summary>
    public static byte[] ToUtf8(IncidentMessage message) => JsonSerializer.SerializeToUtf8Bytes(message, Default.IncidentMessage);

    /// <summary>Reads one message back (tests, consumers written in .NET).</summary>
    public static IncidentMessage? FromUtf8(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize(json, Default.IncidentMessage);
}
