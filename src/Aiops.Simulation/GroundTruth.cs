using System.Text.Json;
using System.Text.Json.Serialization;

namespace Aiops.Simulation;

/// <summary>
/// One injected fault as the evaluation sees it: the root-cause node a ranking must name, the
/// window it was active, and the nodes it can affect (the root and every transitive caller).
/// </summary>
public sealed record GroundTruthFault
{
    /// <summary>Fault identifier, unique within a dataset.</summary>
    public required string Id { get; init; }

    /// <summary>Fault kind (snake_case, see <see cref="FaultKinds.Name"/>).</summary>
    public required string Kind { get; init; }

    /// <summary>The root-cause node (service or virtual node such as <c>postgres</c>).</summary>
    public required string RootCause { get; init; }

    /// <summary>Fault start, Unix ms.</summary>
    public required long StartMs { get; init; }

    /// <summary>Fault end (exclusive), Unix ms.</summary>
    public required long EndMs { get; init; }

    /// <summary>The root and every node whose signals the fault can move (its transitive callers).</summary>
    public IReadOnlyList<string> Affected { get; init; } = [];

    /// <summary>The replica, for a one-bad-replica fault.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Instance { get; init; }

    /// <summary>The caller of the delayed edge, for an edge-latency fault.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Caller { get; init; }

    /// <summary>The version deployed at fault start, for an error burst after a release.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Version { get; init; }
}

/// <summary>
/// The content of <c>ground_truth.json</c>: the simulated window, the seed that reproduces it and
/// the faults injected (empty for a fault-free run).
/// </summary>
public sealed record GroundTruth
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    };

    /// <summary>The simulator seed.</summary>
    public required int Seed { get; init; }

    /// <summary>First simulated instant, Unix ms.</summary>
    public required long StartMs { get; init; }

    /// <summary>End of the simulated window (exclusive), Unix ms.</summary>
    public required long EndMs { get; init; }

    /// <summary>The faults injected, ordered by start.</summary>
    public IReadOnlyList<GroundTruthFault> Faults { get; init; } = [];

    /// <summary>Serialises to indented JSON (camelCase names).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Parses <c>ground_truth.json</c> content; throws <see cref="InvalidDataException"/> with the reason.</summary>
    public static GroundTruth FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            var truth = JsonSerializer.Deserialize<GroundTruth>(json, JsonOptions)
                ?? throw new InvalidDataException("ground_truth.json is empty (null).");
            foreach (var fault in truth.Faults)
            {
                _ = FaultKinds.Parse(fault.Kind);
                if (fault.EndMs <= fault.StartMs)
                {
                    throw new InvalidDataException($"Fault '{fault.Id}' ends ({fault.EndMs}) before it starts ({fault.StartMs}).");
                }
            }

            return truth;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"ground_truth.json is not valid: {e.Message}", e);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"ground_truth.json is not valid: {e.Message}", e);
        }
    }

    /// <summary>Reads <c>ground_truth.json</c> from a file.</summary>
    public static GroundTruth Load(string path) => FromJson(File.ReadAllText(path));

    /// <summary>Writes <c>ground_truth.json</c> to a file.</summary>
    public void Save(string path) => File.WriteAllText(path, ToJson() + "\n");
}
