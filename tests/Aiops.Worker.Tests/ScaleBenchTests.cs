using Aiops.Worker.Scale;

namespace Aiops.Worker.Tests;

/// <summary>The scale benchmark on a small workload: what it measures, not how fast (no timing asserts).</summary>
public sealed class ScaleBenchTests
{
    [Fact]
    public async Task EveryInstanceCountProcessesTheWholeWorkloadAndTheTableListsEachOnce()
    {
        var settings = new ScaleBenchSettings([1, 2], Partitions: 2, RecordsPerPartition: 20, PointsPerRecord: 10, SeriesCounts: [], MaxSeries: 1_000);

        var rows = await ScaleBench.MeasureThroughputAsync(settings, CancellationToken.None);

        // 2 partitions x 20 records x 10 points, committed to the end by each group.
        Assert.Equal([1, 2], rows.Select(static r => r.Instances));
        Assert.All(rows, static r => Assert.Equal(40, r.Records));
        Assert.All(rows, static r => Assert.Equal(400, r.Points));
        Assert.All(rows, static r => Assert.True(r.Seconds > 0));
        var text = new StringWriter();
        ScaleBench.Print(text, rows, [], 1_000);
        Assert.Contains("| 2 | 40 | 400 |", text.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void MemoryStaysAtTheCapWhenFiveTimesMoreSeriesArePushed()
    {
        var settings = new ScaleBenchSettings([], 1, 1, 1, SeriesCounts: [1_000, 5_000], MaxSeries: 1_000);

        var rows = ScaleBench.MeasureMemory(settings);

        Assert.Equal(1_000, rows[0].SeriesKept);
        Assert.Equal(0, rows[0].SeriesEvicted);
        Assert.Equal(1_000, rows[1].SeriesKept);
        Assert.Equal(4_000, rows[1].SeriesEvicted);

        // Without eviction the second pipeline would hold five times the detectors of the first;
        // with it, about the same (1.5x leaves room for the allocator and the string intern tables).
        Assert.True(rows[1].ManagedBytes < rows[0].ManagedBytes * 1.5, $"{rows[1].ManagedBytes} vs {rows[0].ManagedBytes} bytes");
    }
}
