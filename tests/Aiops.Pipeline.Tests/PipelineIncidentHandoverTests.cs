using System.Text.Json;
using System.Text.Json.Serialization;
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

    private static readonly JsonSerializerOptions JsonOptions = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

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

    private static List<IncidentEvent> Feed(EventTimePipeline pipeline, List<MetricPoint> points, int from, int to, bool flush)
    {
        var events = new List<IncidentEvent>();
        for (int i = from; i < to; i++)
        {
            pipeline.AddMetric(points[i]);
            events.AddRange(pipeline.TakeEvents());
        }

        if (flush)
        {
            pipeline.Flush();
            events.AddRange(pipeline.TakeEvents());
        }

        return events;
    }

    /// <summary>Everything an event says (ids, times, ranking, evidence with its bands), as JSON; NaN bands allowed.</summary>
    private static string Describe(IncidentEvent e) => JsonSerializer.Serialize(e, JsonOptions);

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

        Assert.Equal(expected.Select(Describe), actual.Select(Describe));
        // cart and email share no graph edge here (no spans): two incidents, each opened and
        // resolved once over the whole run, at least one resolve after the cut.
        var all = before.Concat(expected).ToList();
        Assert.Equal(2, all.Count(static e => e.Kind == IncidentEventKind.Open));
        Assert.Equal(2, all.Count(static e => e.Kind == IncidentEventKind.Resolve));
        Assert.Contains(expected, static e => e.Kind == IncidentEventKind.Resolve);
        Assert.Equal(Snapshot(original), Snapshot(restored));
    }
}
