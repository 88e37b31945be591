using Aiops.Core;

namespace Aiops.Detection.Tests;

public class DetectorRegistryTests
{
    [Fact]
    public void DetectorsAreCreatedLazilyPerSeriesWithTheProfileOfThePointsKind()
    {
        var registry = new DetectorRegistry();
        var latency = new SeriesKey("cart", "p99");
        var errors = new SeriesKey("cart", "errors");
        registry.Push(new MetricPoint(latency, MetricKind.Latency, SeriesGen.T0, 120));
        registry.Push(new MetricPoint(latency, MetricKind.Latency, SeriesGen.T0 + 1000, 121));
        registry.Push(new MetricPoint(errors, MetricKind.ErrorRate, SeriesGen.T0, 0.01, 500));

        Assert.Equal(2, registry.Count);
        Assert.Equal(AlertDirection.Up, registry.Detectors[latency].Profile.Direction);
        Assert.True(registry.Detectors[errors].Profile.RateTestEnabled);
        Assert.Equal(2, registry.Detectors[latency].Counters.Accepted);
    }

    [Fact]
    public void NewSeriesBeyondTheCapAreCountedNotCreated()
    {
        var registry = new DetectorRegistry(maxSeries: 2);
        for (var i = 0; i < 5; i++)
        {
            registry.Push(new MetricPoint(new SeriesKey("s", "m", "pod=" + i), MetricKind.Generic, SeriesGen.T0, 1));
        }

        Assert.Equal(2, registry.Count);
        Assert.Equal(3, registry.RejectedNewSeries);
    }

    [Fact]
    public void ARegistrySnapshotRestoresEverySeriesBitIdentically()
    {
        var gen = new SeriesGen(21);
        var keys = new[] { new SeriesKey("a", "m"), new SeriesKey("b", "m", "x=1") };
        var original = new DetectorRegistry();
        for (var i = 0; i < 400; i++)
        {
            foreach (var k in keys)
            {
                original.Push(new MetricPoint(k, MetricKind.Throughput, SeriesGen.T0 + (i * SeriesGen.Minute), 100 + gen.Normal()));
            }
        }

        using var buffer = new MemoryStream();
        original.Save(buffer);
        buffer.Position = 0;
        var restored = DetectorRegistry.Load(buffer);
        Assert.Equal(original.Count, restored.Count);
        for (var i = 400; i < 500; i++)
        {
            foreach (var k in keys)
            {
                var p = new MetricPoint(k, MetricKind.Throughput, SeriesGen.T0 + (i * SeriesGen.Minute), 100 + gen.Normal() + (i == 450 ? 30 : 0));
                SeriesDetectorTests.AssertIdentical(original.Push(p), restored.Push(p));
            }
        }
    }
}
