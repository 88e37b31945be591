using Aiops.Core;
using Aiops.Pipeline;
using Aiops.Simulation;
using Aiops.Topology;

namespace Aiops.Pipeline.Tests;

/// <summary>SLOs declared in <see cref="PipelineOptions.Slo"/> reach the correlator as burn-rate symptoms.</summary>
public sealed class SloPipelineTests
{
    private const long Minute = 60_000;
    private const long Start = ScenarioOptions.DefaultStartMs;

    /// <summary>
    /// 99% availability on checkout, one rule: 10 min and 2 min windows both at ≥ 10× (i.e. ≥ 10%
    /// failed). Ten requests a minute; 20 clean minutes, then 3 failures a minute (30%).
    /// </summary>
    private static PipelineOptions Options() => new()
    {
        Slo = new SloOptions
        {
            Objectives = [new SloDefinition { Name = "checkout-availability", Service = "checkout", Kind = SliKind.Availability, Objective = 0.99 }],
            Rules = [new BurnRateRule { LongWindowMs = 10 * Minute, ShortWindowMs = 2 * Minute, BurnRate = 10 }],
        },
        Correlator = new CorrelatorOptions { MinSignalsToOpen = 1, MinEvidenceTimestamps = 1 },
    };

    [Fact]
    public void ABurningAvailabilitySloFiresInTheBucketTheHandComputationSaysAndOpensAnIncident()
    {
        var pipeline = new EventTimePipeline(Options());
        var alerts = new List<Anomaly>();
        pipeline.Trace = t =>
        {
            if (t.Fate == TraceFate.Forwarded && t.Verdict is { Detector: DetectorKind.BurnRate } a)
            {
                alerts.Add(a);
            }
        };

        var events = new List<IncidentEvent>();
        ulong id = 1;
        for (var minute = 0; minute < 30; minute++)
        {
            for (var i = 0; i < 10; i++)
            {
                var startMs = Start + (minute * Minute) + (i * 5_000);
                pipeline.AddSpan(new SpanRecord
                {
                    TraceId = id,
                    SpanId = id++,
                    Service = "checkout",
                    Name = "PlaceOrder",
                    Kind = SpanKind.Server,
                    StartUnixNanos = startMs * 1_000_000,
                    EndUnixNanos = (startMs + 20) * 1_000_000,
                    Status = minute >= 20 && i < 3 ? SpanStatus.Error : SpanStatus.Ok,
                });
            }

            events.AddRange(pipeline.TakeEvents());
        }

        pipeline.Flush();
        events.AddRange(pipeline.TakeEvents());

        // Hand computation, bad/total over the 10-min window and the 2-min window after the k-th
        // bad minute (k = 1, 2, …): long 3k/100 → burn 3k; short min(k, 2)·3/20 → burn 15 or 30.
        // Both ≥ 10 first at k = 4 (long burn 12×), i.e. the bucket of minute 23.
        var first = alerts[0];
        Assert.Equal(Start + (23 * Minute), first.TimestampMs);
        Assert.Equal(12.0, first.Observed, 9);
        Assert.Equal(new SeriesKey("checkout", SloMonitor.MetricName, "slo=checkout-availability"), first.Series);

        // k = 5 → 15×, k = 6 → 18×, …: one alert per closed bucket while it burns (minutes 23–29;
        // the flush also closes minute 30, whose windows still hold the failures).
        Assert.Equal(15.0, alerts[1].Observed, 9);
        Assert.Equal(7, alerts.Count(a => a.TimestampMs <= Start + (29 * Minute)));

        var open = Assert.Single(events, e => e.Kind == IncidentEventKind.Open);
        Assert.Contains(open.Anomalies, a => a.Detector == DetectorKind.BurnRate);
        Assert.Equal("checkout", open.RootCauses[0].Node);
    }

    [Fact]
    public void WithoutObjectivesNoBurnRateSignalIsProduced()
    {
        var pipeline = new EventTimePipeline(new PipelineOptions());
        var burnRate = 0;
        pipeline.Trace = t => burnRate += t.Verdict is { Detector: DetectorKind.BurnRate } ? 1 : 0;
        for (var minute = 0; minute < 15; minute++)
        {
            pipeline.AddSpan(new SpanRecord
            {
                TraceId = (ulong)(minute + 1),
                SpanId = (ulong)(minute + 1),
                Service = "checkout",
                Name = "PlaceOrder",
                Kind = SpanKind.Server,
                StartUnixNanos = (Start + (minute * Minute)) * 1_000_000,
                EndUnixNanos = (Start + (minute * Minute) + 20) * 1_000_000,
                Status = SpanStatus.Error,
            });
        }

        pipeline.Flush();
        Assert.Equal(0, burnRate);
    }
}
