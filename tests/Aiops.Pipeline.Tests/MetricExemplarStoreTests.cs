using Aiops.Core;
using Aiops.Pipeline;

namespace Aiops.Pipeline.Tests;

public sealed class MetricExemplarStoreTests
{
    private const long T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
    private const long Minute = 60_000;

    private static readonly SeriesKey Cpu = new("inventory", "process.cpu.utilization", "host=h1");

    private static string Hex(UInt128 trace) => trace.ToString("x32", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void OnlyTheLastEightExemplarsOfASeriesAreKeptNewestFirst()
    {
        var store = new MetricExemplarStore();
        for (var i = 1; i <= 12; i++)
        {
            store.Add(Cpu, T0 + i, (UInt128)i);
        }

        // 12 added, PerSeries = 8 kept: traces 12 down to 5; at most MaxTraceIds = 5 returned.
        Assert.Equal([Hex(12), Hex(11), Hex(10), Hex(9), Hex(8)], store.TraceIdsNear(Cpu, T0));
        Assert.Equal(1, store.Count);
    }

    private static byte[] Save(MetricExemplarStore store)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer))
        {
            store.SaveState(writer);
        }

        return buffer.ToArray();
    }

    [Fact]
    public void ARestoredStoreKeepsTheExemplarsAndEvictsTheSameSeriesNext()
    {
        var store = new MetricExemplarStore();
        // MaxSeries − 1 other series, then Cpu: the store is full.
        for (var s = 0; s < MetricExemplarStore.MaxSeries - 1; s++)
        {
            store.Add(Cpu with { Labels = "node=n" + s }, T0 + s, (UInt128)(s + 1));
        }

        for (var i = 1; i <= 10; i++)
        {
            store.Add(Cpu, T0 + i, (UInt128)(100_000 + i));
        }

        byte[] state = Save(store);
        var restored = new MetricExemplarStore();
        restored.LoadState(new BinaryReader(new MemoryStream(state)));
        Assert.Equal(state, Save(restored));
        Assert.Equal(store.TraceIdsNear(Cpu, T0), restored.TraceIdsNear(Cpu, T0));

        // Full: a new series evicts the one that arrived first (node=n0) in both; node=n1 stays.
        store.Add(Cpu with { Labels = "node=new" }, T0, 7);
        restored.Add(Cpu with { Labels = "node=new" }, T0, 7);
        Assert.Empty(restored.TraceIdsNear(Cpu with { Labels = "node=n0" }, T0));
        Assert.Equal([Hex(2)], restored.TraceIdsNear(Cpu with { Labels = "node=n1" }, T0));
        Assert.Equal(store.Evicted, restored.Evicted);
        Assert.Equal(Save(store), Save(restored));
    }

    [Fact]
    public void ATruncatedExemplarStateIsRefusedNamingIt()
    {
        var store = new MetricExemplarStore();
        store.Add(Cpu, T0, 1);
        byte[] state = Save(store);

        var e = Assert.Throws<InvalidDataException>(() => new MetricExemplarStore().LoadState(new BinaryReader(new MemoryStream(state[..^5]))));
        Assert.Contains("metric exemplar state", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExemplarsFartherThanOneExportIntervalFromTheVerdictAreNotItsOwn()
    {
        var store = new MetricExemplarStore();
        store.Add(Cpu, T0, 1);
        store.Add(Cpu, T0 + (10 * Minute), 2);

        // MatchWindowMs = 60 s either way: the verdict at T0 + 30 s sees trace 1 only.
        Assert.Equal([Hex(1)], store.TraceIdsNear(Cpu, T0 + (Minute / 2)));
        Assert.Equal([Hex(2)], store.TraceIdsNear(Cpu, T0 + (10 * Minute)));
        Assert.Empty(store.TraceIdsNear(Cpu, T0 + (5 * Minute)));
        Assert.Empty(store.TraceIdsNear(Cpu with { Labels = "host=h2" }, T0));
    }

    [Fact]
    public void AnExemplarWithoutATraceAndARepeatedTraceAreNotListed()
    {
        var store = new MetricExemplarStore();
        store.Add(Cpu, T0, UInt128.Zero);
        Assert.Equal(0, store.Count);

        store.Add(Cpu, T0, 7);
        store.Add(Cpu, T0 + 1, 7);
        Assert.Equal([Hex(7)], store.TraceIdsNear(Cpu, T0));
    }

    [Fact]
    public void BeyondTheSeriesCapTheSeriesWithTheOldestFirstExemplarIsEvicted()
    {
        var store = new MetricExemplarStore();
        for (var s = 0; s <= MetricExemplarStore.MaxSeries; s++)
        {
            store.Add(new SeriesKey("svc", "m", "s=" + s.ToString(System.Globalization.CultureInfo.InvariantCulture)), T0, (UInt128)(s + 1));
        }

        Assert.Equal(MetricExemplarStore.MaxSeries, store.Count);
        Assert.Equal(1, store.Evicted);
        Assert.Empty(store.TraceIdsNear(new SeriesKey("svc", "m", "s=0"), T0));
        Assert.Equal([Hex(2)], store.TraceIdsNear(new SeriesKey("svc", "m", "s=1"), T0));
    }

    [Fact]
    public void TheLookupFallsBackToTheSpanExemplarsOnlyWhenTheSeriesHasNone()
    {
        var store = new MetricExemplarStore();
        store.Add(Cpu, T0, 3);
        var lookup = store.OrElse(static (_, _) => ["from-spans"]);

        Assert.Equal([Hex(3)], lookup(Cpu, T0));
        Assert.Equal(["from-spans"], lookup(new SeriesKey("checkout", "latency.p99"), T0));
    }

    /// <summary>
    /// 6 h of a CPU gauge (a daily-free level with seeded noise), then 20 minutes at saturation;
    /// every saturated point carries an exemplar with <paramref name="trace"/> (as an OTLP SDK
    /// samples a trace recorded while the value was measured).
    /// </summary>
    private static List<IncidentEvent> RunCpuSaturation(UInt128 trace, bool withExemplars)
    {
        var pipeline = new EventTimePipeline();
        var events = new List<IncidentEvent>();
        var random = new Random(17);
        for (var m = 0; m < 400; m++)
        {
            var t = T0 + (m * Minute);
            var saturated = m is >= 360 and < 380;
            if (saturated && withExemplars)
            {
                pipeline.AddExemplar(Cpu, t - 5_000, trace);
            }

            pipeline.AddMetric(new MetricPoint(Cpu, MetricKind.Saturation, t, saturated ? 0.97 : 0.30 + (0.02 * random.NextDouble())));
            events.AddRange(pipeline.TakeEvents());
        }

        pipeline.Flush();
        events.AddRange(pipeline.TakeEvents());
        return events;
    }

    [Fact]
    public void APlantedCpuSaturationWhosePointsCarryExemplarsListsTheirTraceOnTheIncident()
    {
        var trace = new UInt128(0x00c0ffee00c0ffee, 0x0123456789abcdef);
        var events = RunCpuSaturation(trace, withExemplars: true);

        var open = Assert.Single(events, static e => e.Kind == IncidentEventKind.Open);
        var cause = open.RootCauses[0];
        Assert.Equal("inventory", cause.Node);
        Assert.Contains(Hex(trace), cause.ExemplarTraceIds);
        Assert.Contains(open.Anomalies, a => a.Series == Cpu && a.ExemplarTraceIds.Contains(Hex(trace)));

        // Without the exemplars the same incident has no trace to show: the ids above came from them.
        var bare = Assert.Single(RunCpuSaturation(trace, withExemplars: false), static e => e.Kind == IncidentEventKind.Open);
        Assert.Equal(open.IncidentId, bare.IncidentId);
        Assert.Empty(bare.RootCauses[0].ExemplarTraceIds);
    }
}
