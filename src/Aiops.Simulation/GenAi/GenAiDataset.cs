using System.Text.Json;
using System.Text.Json.Serialization;
using Aiops.Ingestion.JsonLines;

namespace Aiops.Simulation.GenAi;

/// <summary>One planted GenAI fault as <c>genai_ground_truth.json</c> records it.</summary>
public sealed record GenAiFault
{
    /// <summary>Fault identifier.</summary>
    public required string Id { get; init; }

    /// <summary><c>ttft_regression</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>The service whose model calls slowed (the incident's expected root cause).</summary>
    public required string Service { get; init; }

    /// <summary>The model whose first tokens slowed (every variant).</summary>
    public required string Model { get; init; }

    /// <summary>Fault start, Unix ms.</summary>
    public required long StartMs { get; init; }

    /// <summary>Fault end (exclusive), Unix ms.</summary>
    public required long EndMs { get; init; }

    /// <summary>Time-to-first-token multiplier.</summary>
    public required double Factor { get; init; }
}

/// <summary>
/// The truth of a GenAI dataset: the faults planted, and which prompt variant is worse by
/// construction (slower and costlier). Kept beside <c>ground_truth.json</c> (whose fault kinds are
/// the shop's) so the shop's evaluation never sees a kind it cannot simulate.
/// </summary>
public sealed record GenAiGroundTruth
{
    /// <summary>File name in a dataset directory.</summary>
    public const string FileName = "genai_ground_truth.json";

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The simulator seed.</summary>
    public required int Seed { get; init; }

    /// <summary>The service simulated.</summary>
    public required string Service { get; init; }

    /// <summary>The model called.</summary>
    public required string Model { get; init; }

    /// <summary>The variant that is slower and costlier by construction.</summary>
    public required string WorseVariant { get; init; }

    /// <summary>The other variant(s).</summary>
    public IReadOnlyList<string> OtherVariants { get; init; } = [];

    /// <summary>Faults planted (empty when fault-free).</summary>
    public IReadOnlyList<GenAiFault> Faults { get; init; } = [];

    /// <summary>Serialises to indented JSON (camelCase).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Reads the file; throws <see cref="InvalidDataException"/> naming the problem.</summary>
    public static GenAiGroundTruth Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<GenAiGroundTruth>(File.ReadAllText(path), JsonOptions)
                ?? throw new InvalidDataException($"{path} is empty (null).");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not valid: {e.Message}", e);
        }
    }

    /// <summary>The truth of <paramref name="scenario"/>: the worse variant is the one with the larger TTFT median and prompt.</summary>
    public static GenAiGroundTruth Of(GenAiScenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var worse = scenario.Variants.OrderByDescending(static v => v.TtftMedianMs).ThenByDescending(static v => v.InputTokensMean).First();
        return new GenAiGroundTruth
        {
            Seed = scenario.Seed,
            Service = scenario.Service,
            Model = scenario.Model,
            WorseVariant = worse.Name,
            OtherVariants = [.. scenario.Variants.Where(v => v != worse).Select(static v => v.Name)],
            Faults = scenario.Fault is { } f
                ? [new GenAiFault { Id = "genai-1", Kind = "ttft_regression", Service = scenario.Service, Model = scenario.Model, StartMs = f.StartMs, EndMs = f.EndMs, Factor = f.Factor }]
                : [],
        };
    }
}

/// <summary>
/// Writes a <see cref="GenAiScenario"/> as a replay dataset: <c>spans.jsonl</c> (JSON lines, by
/// span end), <c>ground_truth.json</c> (the window and seed; no shop fault) and
/// <c>genai_ground_truth.json</c>.
/// </summary>
public static class GenAiDataset
{
    /// <summary>Simulates and writes; returns the number of spans.</summary>
    public static int Write(GenAiScenario scenario, string directory)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        var spans = new GenAiSimulator(scenario).Spans();
        using (var writer = JsonLinesWriter.Create(Path.Combine(directory, SimulationDataset.SpansFile)))
        {
            foreach (var span in spans)
            {
                writer.Write(span);
            }
        }

        new GroundTruth { Seed = scenario.Seed, StartMs = scenario.StartMs, EndMs = scenario.EndMs }.Save(Path.Combine(directory, SimulationDataset.GroundTruthFile));
        File.WriteAllText(Path.Combine(directory, GenAiGroundTruth.FileName), GenAiGroundTruth.Of(scenario).ToJson() + "\n");
        return spans.Count;
    }
}
