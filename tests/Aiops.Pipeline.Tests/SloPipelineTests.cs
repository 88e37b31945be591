using Aiops.Core;
using Aiops.Pipeline;
using Aiops.Pipeline.Repartition;
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
        var spans = CheckoutSpans();
        for (var i = 0; i < spans.Count; i++)
        {
            pipeline.AddSpan(spans[i]);
            if (i % 10 == 9)
            {
                events.AddRange(pipeline.TakeEvents());
            }
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

    [Fact]
    public void ThePipelinesBurnRateAlertsAreThoseOfOneSloMonitorObservingEverySpan()
    {
        // The pipeline counts in its ingest stage and runs the windows in its per-service stage;
        // the reference is the monitor that does both, fed every span as it arrives.
        var options = RepartitionedPipelineTests.SloOptions();
        var scenario = RepartitionedPipelineTests.Scenario(FaultKind.BadReplica, "cart", "cart-2");
        var pipeline = new EventTimePipeline(options);
        var alerts = new List<string>();
        pipeline.Trace = t =>
        {
            if (t.Fate == TraceFate.Forwarded && t.Verdict is { Detector: DetectorKind.BurnRate } a)
            {
                alerts.Add(Describe(a));
            }
        };

        var reference = new SloMonitor(options.Slo);
        var expected = new List<Anomaly>();
        long watermark = long.MinValue;
        foreach (var batch in new ShopSimulator(scenario).Batches())
        {
            foreach (var span in batch.Spans)
            {
                pipeline.AddSpan(span);
                reference.Observe(span);
                watermark = Math.Max(watermark, span.EndUnixNanos / 1_000_000);
                reference.AdvanceTo(watermark, expected);
            }
        }

        pipeline.Flush();
        reference.AdvanceTo(watermark + options.BucketMs + options.AllowedLatenessMs + options.Correlator.OpenDelayMs, expected);

        Assert.Contains(expected, a => a.Series.Service == "cart");
        Assert.Equal(expected.ConvertAll(Describe), alerts);
    }

    [Theory]
    [InlineData(10, 4)]
    [InlineData(22, 5)]
    [InlineData(25, 9)]
    public void TheStagesSloStateSavedMidBucketAndRestoredGivesTheSameAlertsAfterTheCut(int cutMinute, int cutSpan)
    {
        // The cut is inside a minute (the ingest stage holds its open counts) and, at minutes 22
        // and 25, while the rule fires (the per-service stage holds the windows and the firing start).
        var original = new SloStages(Options());
        var spans = CheckoutSpans();
        int cut = (cutMinute * 10) + cutSpan;
        for (int i = 0; i < cut; i++)
        {
            original.Ingest.AddSpan(spans[i]);
        }

        var saved = new MemoryStream();
        using (var writer = new BinaryWriter(saved, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            original.Ingest.SaveState(writer);
            original.Merge.SaveState(writer);
        }

        var restored = new SloStages(Options());
        saved.Position = 0;
        using (var reader = new BinaryReader(saved))
        {
            restored.Ingest.LoadState(reader);
            restored.Merge.LoadState(reader);
        }

        int before = original.Alerts.Count;
        foreach (var stages in new[] { original, restored })
        {
            for (int i = cut; i < spans.Count; i++)
            {
                stages.Ingest.AddSpan(spans[i]);
            }

            stages.Ingest.AdvanceTo(stages.Ingest.WatermarkMs + (5 * Minute));
        }

        Assert.NotEmpty(restored.Alerts);
        Assert.Equal(original.Alerts.Skip(before), restored.Alerts);
        Assert.Equal(original.SaveSlo(), restored.SaveSlo());
    }

    private static string Describe(Anomaly a) =>
        FormattableString.Invariant($"{a.Series}|{a.TimestampMs}|{a.SinceMs}|{a.Observed:R}|{a.Upper:R}|{a.Score:R}|{a.Detail}");

    /// <summary>The workload of the first test: 30 minutes of 10 checkout requests a minute, 3 of them failing from minute 20.</summary>
    private static List<SpanRecord> CheckoutSpans()
    {
        var spans = new List<SpanRecord>();
        ulong id = 1;
        for (var minute = 0; minute < 30; minute++)
        {
            for (var i = 0; i < 10; i++)
            {
                var startMs = Start + (minute * Minute) + (i * 5_000);
                spans.Add(new SpanRecord
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
        }

        return spans;
    }

    /// <summary>An ingest and a per-service stage wired as in <see cref="EventTimePipeline"/>, the burn-rate verdicts they forward collected.</summary>
    private sealed class SloStages : IStageSink
    {
        public SloStages(PipelineOptions options)
        {
            var detection = new DetectionStage(options, this, StageSources.Merge(0));
            Merge = new MergeStage(options, StageSources.Merge(0), sources: 1, detection, this);
            Ingest = new IngestStage(options, StageSources.Ingest(0, 0), detection, Merge);
        }

        public IngestStage Ingest { get; }

        public MergeStage Merge { get; }

        public List<string> Alerts { get; } = [];

        public void Write(StageRecord record)
        {
            if (record is VerdictRecord { Anomaly: { Detector: DetectorKind.BurnRate } a } verdict)
            {
                Alerts.Add($"{verdict.TimeMs}|{Describe(a)}");
            }
        }

        public byte[] SaveSlo()
        {
            var stream = new MemoryStream();
            using (var writer = new BinaryWriter(stream))
            {
                Ingest.SaveState(writer);
                Merge.SaveState(writer);
            }

            return stream.ToArray();
        }
    }
}
