using Aiops.Ingestion.JsonLines;

namespace Aiops.Simulation;

/// <summary>What <see cref="SimulationDataset.Write"/> wrote.</summary>
/// <param name="Directory">The dataset directory.</param>
/// <param name="Spans">Lines in <c>spans.jsonl</c>.</param>
/// <param name="Metrics">Lines in <c>metrics.jsonl</c>.</param>
public sealed record DatasetSummary(string Directory, long Spans, long Metrics);

/// <summary>
/// Writes a simulated scenario as a dataset directory the replay command reads: <c>spans.jsonl</c>
/// and <c>metrics.jsonl</c> in our JSON-lines format (through ingestion's writer, in event-time
/// order) and <c>ground_truth.json</c>.
/// </summary>
public static class SimulationDataset
{
    /// <summary>File name of the spans.</summary>
    public const string SpansFile = "spans.jsonl";

    /// <summary>File name of the metric points.</summary>
    public const string MetricsFile = "metrics.jsonl";

    /// <summary>File name of the ground truth.</summary>
    public const string GroundTruthFile = "ground_truth.json";

    /// <summary>Simulates <paramref name="scenario"/> and writes it under <paramref name="directory"/> (created if missing).</summary>
    public static DatasetSummary Write(ScenarioOptions scenario, string directory)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var simulator = new ShopSimulator(scenario);
        Directory.CreateDirectory(directory);
        long spans = 0;
        long metrics = 0;
        using (var spanWriter = JsonLinesWriter.Create(Path.Combine(directory, SpansFile)))
        using (var metricWriter = JsonLinesWriter.Create(Path.Combine(directory, MetricsFile)))
        {
            foreach (var batch in simulator.Batches())
            {
                foreach (var point in batch.Metrics)
                {
                    metricWriter.Write(point);
                    metrics++;
                }

                foreach (var span in batch.Spans)
                {
                    spanWriter.Write(span);
                    spans++;
                }
            }
        }

        simulator.GroundTruth.Save(Path.Combine(directory, GroundTruthFile));
        return new DatasetSummary(directory, spans, metrics);
    }
}
