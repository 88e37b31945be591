using Aiops.Ingestion.JsonLines;
using Aiops.Simulation;

namespace Aiops.Simulation.Tests;

public sealed class SimulationDatasetTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "aiops-sim-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public void AWrittenDatasetReadsBackToTheSimulatedRecordsAndGroundTruth()
    {
        var start = ScenarioOptions.DefaultStartMs;
        var scenario = new ScenarioOptions
        {
            Seed = 9,
            DurationMs = 5 * 60_000,
            Faults = [new FaultSpec("f1", FaultKind.CpuSaturation, "payment", start + 60_000, start + 180_000)],
        };

        var summary = SimulationDataset.Write(scenario, _directory);

        var expected = new ShopSimulator(scenario).Records().ToList();
        var reader = new JsonLinesReader();
        var spans = reader.ReadFile(Path.Combine(_directory, SimulationDataset.SpansFile)).ToList();
        var metrics = reader.ReadFile(Path.Combine(_directory, SimulationDataset.MetricsFile)).ToList();

        Assert.Equal(expected.Count(r => r.IsSpan), summary.Spans);
        Assert.Equal(expected.Count(r => !r.IsSpan), summary.Metrics);
        Assert.Equal(summary.Spans, spans.Count);
        Assert.Equal(summary.Metrics, metrics.Count);
        Assert.All(spans, s => Assert.Equal(JsonLineType.Span, s.Type));
        var firstSpan = expected.First(r => r.IsSpan).Span;
        Assert.Equal(firstSpan.TraceId, spans[0].Span.TraceId);
        Assert.Equal(firstSpan.PeerService, spans[0].Span.PeerService);
        Assert.Equal(expected.First(r => !r.IsSpan).Metric, metrics[0].Metric);

        var truth = GroundTruth.Load(Path.Combine(_directory, SimulationDataset.GroundTruthFile));
        Assert.Equal("cpu_saturation", Assert.Single(truth.Faults).Kind);
        Assert.Equal("payment", truth.Faults[0].RootCause);
    }
}
