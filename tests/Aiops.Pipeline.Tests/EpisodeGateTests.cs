using Aiops.Core;
using Aiops.Pipeline;
using Aiops.Simulation;

namespace Aiops.Pipeline.Tests;

/// <summary>
/// The pipeline's per-series episode gate (confirmation, sustain, recovery), driven by resource
/// points alone: two CPU series of one service that step from 0.30 to 0.90 and back.
/// </summary>
public sealed class EpisodeGateTests
{
    private const long Minute = 60_000;
    private const long Start = ScenarioOptions.DefaultStartMs;

    /// <summary>300 one-minute points of warm-up (the detectors need 64), then the step.</summary>
    private const int WarmUp = 300;

    private static List<IncidentEvent> Run(PipelineOptions options, int stepMinutes, int after = 60)
    {
        var pipeline = new EventTimePipeline(options);
        var random = new Random(5);
        var events = new List<IncidentEvent>();
        for (var i = 0; i < WarmUp + stepMinutes + after; i++)
        {
            var shifted = i >= WarmUp && i < WarmUp + stepMinutes;
            for (var replica = 1; replica <= 2; replica++)
            {
                var value = (shifted ? 0.90 : 0.30) + ((random.NextDouble() - 0.5) * 0.02);
                pipeline.AddMetric(new MetricPoint(new SeriesKey("cart", "process.cpu.utilization", $"instance=cart-{replica}"), MetricKind.Saturation, Start + (i * Minute), value));
            }

            events.AddRange(pipeline.TakeEvents());
        }

        pipeline.Flush();
        events.AddRange(pipeline.TakeEvents());
        return events;
    }

    [Fact]
    public void AStepTheDetectorsLearnKeepsItsIncidentOpenUntilTheValueReturns()
    {
        // 60 min at 0.90: the detectors fire in the first minutes and then learn the level; without
        // sustaining, the incident would resolve QuietMs (15 min) after the last verdict, i.e. while
        // the CPU is still saturated.
        var events = Run(new PipelineOptions(), stepMinutes: 60);

        var open = Assert.Single(events, e => e.Kind == IncidentEventKind.Open);
        var resolve = Assert.Single(events, e => e.Kind == IncidentEventKind.Resolve);
        Assert.Equal(open.IncidentId, resolve.IncidentId);
        var stepEnd = Start + ((WarmUp + 60) * Minute);
        Assert.True(resolve.TimestampMs >= stepEnd, $"resolved {(stepEnd - resolve.TimestampMs) / Minute} min before the step ended");
        Assert.Equal("cart", open.RootCauses[0].Node);
    }

    [Fact]
    public void WithoutSustainTheSameIncidentResolvesWhileTheStepLasts()
    {
        // The control of the test above: the same data with sustaining off resolves early, so the
        // assertion above is about the sustain, not about the detectors firing all along.
        var events = Run(new PipelineOptions { SustainMs = 0 }, stepMinutes: 60);

        var resolve = Assert.Single(events, e => e.Kind == IncidentEventKind.Resolve);
        Assert.True(resolve.TimestampMs < Start + ((WarmUp + 60) * Minute));
    }

    [Fact]
    public void TheFallBackToTheOldLevelEndsTheEpisodeInsteadOfSustainingIt()
    {
        // After 40 min at 0.90 the detectors expect 0.90, so the return to 0.30 falls far outside
        // their band, on the other side: that is the recovery, which must neither open a second
        // incident nor keep the first one alive. It resolves QuietMs (15 min) after the last
        // abnormal minute, the step's last one.
        var options = new PipelineOptions();
        var events = Run(options, stepMinutes: 40, after: 120);

        Assert.Single(events, e => e.Kind == IncidentEventKind.Open);
        var resolve = Assert.Single(events, e => e.Kind == IncidentEventKind.Resolve);
        var stepEnd = Start + ((WarmUp + 40) * Minute);
        Assert.InRange(resolve.TimestampMs, stepEnd, stepEnd + options.Correlator.QuietMs + Minute);
    }

    [Fact]
    public void ASustainedSignalStartsNoIncidentOnItsOwn()
    {
        // A sustain only refreshes a signal an incident already holds.
        var correlator = new Aiops.Topology.IncidentCorrelator(new Aiops.Topology.ServiceGraph());

        Assert.False(correlator.Sustain(new SeriesKey("cart", "process.cpu.utilization", "instance=cart-1"), Start));
        Assert.Equal(0, correlator.OpenCount);
    }
}
