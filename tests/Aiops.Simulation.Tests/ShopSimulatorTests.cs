using Aiops.Core;
using Aiops.Simulation;

namespace Aiops.Simulation.Tests;

public sealed class ShopSimulatorTests
{
    private const long Hour = 3_600_000;
    private const long Start = ScenarioOptions.DefaultStartMs;

    private static ShopSimulator Simulator(int seed, long durationMs, params FaultSpec[] faults) => new(new ScenarioOptions
    {
        Seed = seed,
        StartMs = Start,
        DurationMs = durationMs,
        Faults = faults,
    });

    private static List<SimulationRecord> Records(ShopSimulator simulator) => [.. simulator.Records()];

    [Fact]
    public void TheSameSeedGivesTheSameRecords()
    {
        var first = Records(Simulator(7, 20 * 60_000));
        var second = Records(Simulator(7, 20 * 60_000));

        Assert.Equal(first.Count, second.Count);
        for (var i = 0; i < first.Count; i++)
        {
            Assert.Equal(first[i].IsSpan, second[i].IsSpan);
            Assert.Equal(first[i].TimestampMs, second[i].TimestampMs);
            if (first[i].IsSpan)
            {
                Assert.Equal(first[i].Span.TraceId, second[i].Span.TraceId);
                Assert.Equal(first[i].Span.SpanId, second[i].Span.SpanId);
                Assert.Equal(first[i].Span.EndUnixNanos, second[i].Span.EndUnixNanos);
            }
            else
            {
                Assert.Equal(first[i].Metric, second[i].Metric);
            }
        }
    }

    [Fact]
    public void EnumeratingTwiceRestartsFromTheSeed()
    {
        var simulator = Simulator(3, 5 * 60_000);
        var first = Records(simulator).Where(r => r.IsSpan).Select(r => r.Span.SpanId).ToList();
        var second = Records(simulator).Where(r => r.IsSpan).Select(r => r.Span.SpanId).ToList();

        Assert.Equal(first, second);
    }

    [Fact]
    public void DifferentSeedsGiveDifferentRecords()
    {
        var first = Records(Simulator(1, 10 * 60_000)).Where(r => r.IsSpan).Select(r => r.Span.TraceId).ToHashSet();
        var second = Records(Simulator(2, 10 * 60_000)).Where(r => r.IsSpan).Select(r => r.Span.TraceId).ToHashSet();

        // 128-bit random trace ids from independent seeds: any overlap would mean shared draws.
        Assert.Empty(first.Intersect(second));
    }

    [Fact]
    public void RecordsComeInEventTimeOrderAtAFewHundredSpansPerMinute()
    {
        var records = Records(Simulator(5, Hour));

        for (var i = 1; i < records.Count; i++)
        {
            Assert.True(records[i].TimestampMs >= records[i - 1].TimestampMs, $"record {i} goes back in time");
        }

        // The options document ≈ 500 spans per simulated minute at the peak and 0.55 of it at the
        // 04:00 trough; the first hour (00:00-01:00) sits in between, so a few hundred per minute.
        var spansPerMinute = records.Count(r => r.IsSpan) / 60.0;
        Assert.InRange(spansPerMinute, 200, 800);
    }

    [Fact]
    public void EveryNonRootSpanHasItsParentInTheSameTraceOnTheCallingSide()
    {
        var spans = Records(Simulator(11, 10 * 60_000)).Where(r => r.IsSpan).Select(r => r.Span).ToList();
        var byId = spans.ToDictionary(s => (s.TraceId, s.SpanId));

        var roots = 0;
        foreach (var span in spans)
        {
            if (span.ParentSpanId == 0)
            {
                roots++;
                Assert.Equal("frontend", span.Service);
                Assert.Equal(SpanKind.Server, span.Kind);
                continue;
            }

            // Spans of traces that straddle the scenario's end may miss a parent; none here
            // because the window ends with the last batch, which keeps late spans.
            var parent = byId[(span.TraceId, span.ParentSpanId)];
            if (span.Kind == SpanKind.Server)
            {
                Assert.Equal(SpanKind.Client, parent.Kind);
                Assert.Equal(span.Service, parent.PeerService);
                Assert.NotEqual(span.Service, parent.Service);
                Assert.True(parent.StartUnixNanos <= span.StartUnixNanos && span.EndUnixNanos <= parent.EndUnixNanos, "a server span lies inside its client span");
            }
            else if (span.Kind == SpanKind.Consumer)
            {
                Assert.Equal(SpanKind.Producer, parent.Kind);
                Assert.Equal("kafka", parent.MessagingSystem);
            }
            else
            {
                Assert.Equal(span.Service, parent.Service);
            }
        }

        Assert.True(roots > 100, "ten minutes at ≥ 0.55 × 40 traces per minute");
    }

    [Fact]
    public void ASlowDatabaseRaisesDatabaseClientLatencyOnlyAfterTheFaultStarts()
    {
        var faultStart = Start + (30 * 60_000);
        var fault = new FaultSpec("f1", FaultKind.SlowDatabase, "db:postgresql", faultStart, faultStart + (20 * 60_000));
        var spans = Records(Simulator(13, Hour, fault)).Where(r => r.IsSpan && r.Span.DbSystem == "postgresql").Select(r => r.Span).ToList();

        var before = Median(spans.Where(s => s.StartUnixNanos < faultStart * 1_000_000).Select(s => s.DurationMs));
        var during = Median(spans.Where(s => fault.IsActive(s.StartUnixNanos / 1_000_000)).Select(s => s.DurationMs));
        var after = Median(spans.Where(s => s.StartUnixNanos / 1_000_000 >= fault.EndMs).Select(s => s.DurationMs));

        // The fault multiplies query time by 8 (intensity 1); the network part (0.6 ms) is not slowed.
        Assert.InRange(during / before, 5, 10);
        Assert.InRange(after / before, 0.8, 1.25);
    }

    [Fact]
    public void ASlowDatabaseSlowsItsCallersAlongTheCallPath()
    {
        var faultStart = Start + (30 * 60_000);
        var fault = new FaultSpec("f1", FaultKind.SlowDatabase, "db:postgresql", faultStart, faultStart + (30 * 60_000));
        var spans = Records(Simulator(17, Hour, fault)).Where(r => r.IsSpan).Select(r => r.Span).ToList();

        double Ratio(string service) =>
            Median(spans.Where(s => s.Service == service && s.Kind == SpanKind.Server && fault.IsActive(s.StartUnixNanos / 1_000_000)).Select(s => s.DurationMs))
            / Median(spans.Where(s => s.Service == service && s.Kind == SpanKind.Server && s.StartUnixNanos / 1_000_000 < faultStart).Select(s => s.DurationMs));

        // product-catalog calls the database directly, frontend through it; currency never does.
        Assert.True(Ratio("product-catalog") > 2, "direct caller slower");
        Assert.True(Ratio("frontend") > 1.5, "the slowness adds up to the entry service");
        Assert.InRange(Ratio("currency"), 0.8, 1.25);
    }

    [Fact]
    public void AnErrorBurstAfterARelease_FailsTheTargetWithTheNewVersion()
    {
        var faultStart = Start + (20 * 60_000);
        var fault = new FaultSpec("f1", FaultKind.ErrorBurst, "cart", faultStart, faultStart + (20 * 60_000), NewVersion: "1.5.0");
        var cart = Records(Simulator(19, Hour, fault)).Where(r => r.IsSpan && r.Span.Service == "cart" && r.Span.Kind == SpanKind.Server).Select(r => r.Span).ToList();

        var during = cart.Where(s => fault.IsActive(s.StartUnixNanos / 1_000_000)).ToList();
        var before = cart.Where(s => s.StartUnixNanos / 1_000_000 < faultStart).ToList();

        // 15% injected on top of a 0.05% base (plus errors propagated from the database, ~0.02%).
        Assert.InRange(during.Count(s => s.Status == SpanStatus.Error) / (double)during.Count, 0.08, 0.25);
        Assert.True(before.Count(s => s.Status == SpanStatus.Error) / (double)before.Count < 0.02);
        Assert.All(during, s => Assert.Equal("1.5.0", s.ServiceVersion));
        Assert.All(before, s => Assert.Equal("1.4.2", s.ServiceVersion));
    }

    [Fact]
    public void OneBadReplicaIsSlowWhileItsPeersAreNot()
    {
        var faultStart = Start + (10 * 60_000);
        var fault = new FaultSpec("f1", FaultKind.BadReplica, "currency", faultStart, faultStart + (30 * 60_000), Instance: "currency-2");
        var currency = Records(Simulator(23, Hour, fault))
            .Where(r => r.IsSpan && r.Span.Service == "currency" && r.Span.Kind == SpanKind.Server && fault.IsActive(r.Span.StartUnixNanos / 1_000_000))
            .Select(r => r.Span).ToList();

        var bad = Median(currency.Where(s => s.ServiceInstance == "currency-2").Select(s => s.DurationMs));
        var good = Median(currency.Where(s => s.ServiceInstance == "currency-1").Select(s => s.DurationMs));

        // Self time ×6 on the bad replica (currency has no callees, so its duration is its self time).
        Assert.InRange(bad / good, 4, 8);
    }

    [Fact]
    public void PacketLossMakesCallersRetryWithFailedClientSpansAndNoServerSpan()
    {
        var faultStart = Start + (10 * 60_000);
        var fault = new FaultSpec("f1", FaultKind.PacketLossRetries, "shipping", faultStart, faultStart + (20 * 60_000));
        var spans = Records(Simulator(29, Hour, fault)).Where(r => r.IsSpan).Select(r => r.Span).ToList();
        var clientCalls = spans.Where(s => s.PeerService == "shipping" && fault.IsActive(s.StartUnixNanos / 1_000_000)).ToList();
        var serverIds = spans.Where(s => s.Service == "shipping").Select(s => (s.TraceId, s.ParentSpanId)).ToHashSet();

        var lost = clientCalls.Where(s => !serverIds.Contains((s.TraceId, s.SpanId))).ToList();

        // 30% of attempts are lost; each lost attempt is an error client span of ≈ 120 ms timeout.
        Assert.InRange(lost.Count / (double)clientCalls.Count, 0.2, 0.4);
        Assert.All(lost, s => Assert.Equal(SpanStatus.Error, s.Status));
        Assert.All(lost, s => Assert.InRange(s.DurationMs, 100, 150));
    }

    [Fact]
    public void AMemoryLeakRaisesMemoryOnEveryReplicaTowardTheLimit()
    {
        var faultStart = Start + (10 * 60_000);
        var fault = new FaultSpec("f1", FaultKind.MemoryLeak, "email", faultStart, faultStart + (40 * 60_000));
        var memory = Records(Simulator(31, Hour, fault))
            .Where(r => !r.IsSpan && r.Metric.Series.Service == "email" && r.Metric.Series.Metric == "process.memory.usage")
            .Select(r => r.Metric).ToList();

        var atStart = memory.Where(p => p.TimestampMs < faultStart).Average(p => p.Value);
        var late = memory.Where(p => p.TimestampMs >= fault.EndMs - (5 * 60_000) && p.TimestampMs < fault.EndMs).Average(p => p.Value);

        // email runs at 240 MB with a 512 MB limit; the leak heads to 95% of the limit (486 MB).
        Assert.InRange(atStart, 230, 250);
        Assert.InRange(late, 420, 490);
    }

    [Fact]
    public void AnUnknownFaultTargetIsRejectedWithItsName()
    {
        var fault = new FaultSpec("f9", FaultKind.CpuSaturation, "warehouse", Start, Start + Hour);

        var error = Assert.Throws<ArgumentException>(() => Simulator(1, Hour, fault));

        Assert.Contains("warehouse", error.Message, StringComparison.Ordinal);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        Assert.NotEmpty(sorted);
        return sorted[sorted.Length / 2];
    }
}
