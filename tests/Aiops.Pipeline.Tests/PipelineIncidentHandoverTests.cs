using Aiops.Core;
using Aiops.Simulation;

namespace Aiops.Pipeline.Tests;

/// <summary>
/// The pipeline snapshot (version 3) carries the episode gates and the correlation stage, so a
/// pipeline restored while an incident is open gives that incident's later events exactly as the
/// undisturbed pipeline does: resource points only (the ingest and merge stages hold no open
/// buckets then), three CPU series of two services that step up for a while (two incidents), as in
/// <see cref="EpisodeGateTests"/>.
/// </summary>
public sealed class PipelineIncidentHandoverTests
{
    private const long Minute = 60_000;
    private const long Start = ScenarioOptions.DefaultStartMs;
    private const int WarmUp = 300;
    private const int Minutes = WarmUp + 150;

    /// <summary>Random 5, noise ±0.01 around 0.30; cart's two replicas at 0.90 for minutes 300-359, email's CPU at 0.85 for 310-329.</summary>
    private static List<MetricPoint> Workload()
    {
        var random = new Random(5);
        var points = new List<MetricPoint>();
        for (int m = 0; m < Minutes; m++)
        {
            for (int replica = 1; replica <= 2; replica++)
            {
                double cart = m is >= WarmUp and < WarmUp + 60 ? 0.90 : 0.30;
                points.Add(new MetricPoint(new SeriesKey("cart", "process.cpu.utilization", $"instance=cart-{replica}"), MetricKind.Saturation, Start + (m * Minute), cart + ((random.NextDouble() - 0.5) * 0.02)));
            }

            double email = m is >= WarmUp + 10 and < WarmUp + 30 ? 0.85 : 0.30;
            points.Add(new MetricPoint(new SeriesKey("email", "process.cpu.utilization"), MetricKind.Saturation, Start + (m * Minute), email + ((random.NextDouble() - 0.5) * 0.02)));
        }

        return points;
    }

    private static List<string> Feed(EventTimePipeline pipeline, List<MetricPoint> points, int from, int to, bool flush)
    {
        var events = new List<string>();
        for (int i = from; i < to; i++)
        {
            pipeline.AddMetric(points[i]);
            events.AddRange(pipeline.TakeEvents().Select(Describe));
        }

        if (flush)
        {
            pipeline.Flush();
            events.AddRange(pipeline.TakeEvents().Select(Describe));
        }

        return events;
    }

    private static string Describe(IncidentEvent e) => string.Join(
        " | ",
        e.Kind,
        e.IncidentId,
        e.TimestampMs,
        e.OpenedAtMs,
        e.ResolvedAtMs,
        e.Summary,
        string.Join(",", e.AffectedNodes),
        string.Join(";", e.RootCauses.Select(static c => $"{c.Rank}:{c.Node}:{c.Score:R}:{c.OnsetMs}:{c.Evidence.Count}:{c.Hint}")),
        string.Join(";", e.Anomalies.Select(static a => $"{a.Series}:{a.Detector}:{a.TimestampMs}:{a.Score:R}:{a.Observed:R}")));

    private static byte[] Snapshot(EventTimePipeline pipeline)
    {
        using var stream = new MemoryStream();
        pipeline.WriteSnapshot(stream);
        return stream.ToArray();
    }

    [Theory]
    [InlineData(WarmUp + 1)] // cart's first verdicts held by the confirmation gate
    [InlineData(WarmUp + 5)] // the incident open, email not yet in it
    [InlineData(WarmUp + 20)] // open with both services, sustained
    [InlineData(WarmUp + 70)] // both steps over, the incident waiting for its quiet time
    public void APipelineRestoredWhileAnIncidentIsOpenGivesItsLaterEventsOnce(int cutMinute)
    {
        var points = Workload();
        int cut = cutMinute * 3;
        var original = new EventTimePipeline();
        var before = Feed(original, points, 0, cut, flush: false);
        var snapshot = Snapshot(original);
        var restored = new EventTimePipeline();
        using (var stream = new MemoryStream(snapshot))
        {
            restored.RestoreSnapshot(stream);
            Assert.Equal(snapshot.Length, stream.Position);
        }

        var expected = Feed(original, points, cut, points.Count, flush: true);
        var actual = Feed(restored, points, cut, points.Count, flush: true);

        Assert.Equal(expected, actual);
        // cart and email share no graph edge here (no spans): two incidents, each opened and
        // resolved once over the whole run, at least one resolve after the cut.
        var all = before.Concat(expected).ToList();
        Assert.Equal(2, all.Count(static e => e.StartsWith("Open", StringComparison.Ordinal)));
        Assert.Equal(2, all.Count(static e => e.StartsWith("Resolve", StringComparison.Ordinal)));
        Assert.Contains(expected, static e => e.StartsWith("Resolve", StringComparison.Ordinal));
        Assert.Equal(Snapshot(original), Snapshot(restored));
    }
}
