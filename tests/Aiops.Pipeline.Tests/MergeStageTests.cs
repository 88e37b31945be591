using Aiops.Core;
using Aiops.Pipeline.Repartition;
using Aiops.Topology;

namespace Aiops.Pipeline.Tests;

public sealed class MergeStageTests
{
    private const long Bucket = 1_700_000_040_000; // a multiple of 60 s

    /// <summary>Collects what the stage forwards; the detection stage is given a copy of every scored point through its observer.</summary>
    private sealed class Recorder : IStageSink
    {
        public List<StageRecord> Records { get; } = [];

        public void Write(StageRecord record) => Records.Add(record);
    }

    private static (MergeStage Stage, Recorder Out, List<MetricPoint> Scored) Create(int sources)
    {
        var options = new PipelineOptions { ServiceMetrics = [RedMetrics.Requests, RedMetrics.Errors, RedMetrics.LatencyP50] };
        var output = new Recorder();
        var detection = new DetectionStage(options, output, StageSources.Merge(0));
        var scored = new List<MetricPoint>();
        detection.DetectionObserver = (point, _) => scored.Add(point);
        return (new MergeStage(options, StageSources.Merge(0), sources, detection, output), output, scored);
    }

    private static PartialRecord Share(int source, long count, long errors, int key) => new()
    {
        Source = source,
        TimeMs = Bucket,
        Partial = new RedPartial
        {
            Service = "cart",
            Scope = RedPartialScope.Service,
            BucketStartMs = Bucket,
            Count = count,
            Errors = errors,
            BinKeys = [key],
            BinCounts = [(int)count],
            SlowestMs = 10,
            SlowestTrace = (UInt128)(source + 1),
        },
    };

    private static WatermarkRecord Mark(int source, long timeMs) => new() { Source = source, TimeMs = timeMs };

    /// <summary>The bucket closes once every source's watermark passed its end plus the allowed lateness (60 s + 30 s by default).</summary>
    private const long Closed = Bucket + 90_000;

    [Fact]
    public void SharesOfTwoSourcesAddUpAndARedeliveredShareReplacesInsteadOfAdding()
    {
        var (stage, _, scored) = Create(sources: 2);

        stage.Write(Share(source: 0, count: 30, errors: 3, key: 100));
        stage.Write(Share(source: 1, count: 12, errors: 0, key: 200));
        stage.Write(Share(source: 0, count: 30, errors: 3, key: 100)); // redelivered after a restart
        stage.Write(Mark(0, Closed));
        stage.Write(Mark(1, Closed));

        // 30 + 12 requests in a 60 s bucket = 0.7 /s; errors 3 / 42.
        var rate = Assert.Single(scored, p => p.Series.Metric == RedMetrics.Requests);
        Assert.Equal(42 / 60.0, rate.Value, 12);
        var errors = Assert.Single(scored, p => p.Series.Metric == RedMetrics.Errors);
        Assert.Equal(3.0 / 42, errors.Value, 12);
        Assert.Equal(42, errors.Total);
    }

    [Fact]
    public void NothingClosesUntilEverySourceHasSentAWatermark()
    {
        var (stage, output, scored) = Create(sources: 2);

        stage.Write(Share(source: 0, count: 30, errors: 0, key: 100));
        stage.Write(Mark(0, Closed + 3_600_000));

        Assert.Empty(scored);
        Assert.DoesNotContain(output.Records, r => r is WatermarkRecord);
        Assert.Equal(1, stage.PendingShares);

        stage.Write(Mark(1, Closed - 1));
        Assert.Empty(scored);

        stage.Write(Mark(1, Closed));
        Assert.Contains(scored, p => p.Series.Metric == RedMetrics.Requests);
        Assert.Equal(Closed, Assert.IsType<WatermarkRecord>(output.Records[^1]).TimeMs);
    }

    [Fact]
    public void AShareArrivingAfterItsBucketClosedIsCountedLateAndChangesNothing()
    {
        var (stage, _, scored) = Create(sources: 1);
        stage.Write(Share(source: 0, count: 30, errors: 0, key: 100));
        stage.Write(Mark(0, Closed));
        int before = scored.Count;

        stage.Write(Share(source: 0, count: 99, errors: 9, key: 100));
        stage.Write(Mark(0, Closed + 1_000));

        Assert.Equal(1, stage.LateShares);
        Assert.DoesNotContain(scored.Skip(before), p => p.TimestampMs == Bucket);
    }

    [Fact]
    public void ResourceVerdictsAndGraphFactsPassThroughToTheCorrelationStage()
    {
        var (stage, output, _) = Create(sources: 1);
        var fact = new GraphFactRecord { Source = 0, TimeMs = 5, Fact = new GraphFact { Kind = GraphFactKind.Node, Node = "cart", TimeMs = 5 } };

        stage.Write(fact);

        Assert.Same(fact, Assert.Single(output.Records));
    }
}
