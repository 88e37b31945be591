using Aiops.Core;
using Aiops.Worker.Options;
using Aiops.Worker.Processing;
using Confluent.Kafka;

namespace Aiops.Worker.Tests;

/// <summary>The aligner's ordering, idle-wait and flow-control rules, with a scripted consumer and a hand-moved clock.</summary>
public sealed class EventTimeAlignerTests
{
    private static readonly TopicPartition Metrics = new("otlp_metrics", 0);
    private static readonly TopicPartition Spans = new("otlp_spans", 0);

    [Fact]
    public void RecordsAreReleasedSmallestEventTimeFirstAcrossPartitionsAndInOffsetOrderWithinOne()
    {
        var (aligner, _, _) = Create();
        aligner.Assign([Metrics, Spans]);

        // The metrics partition is read far ahead (a backlog): minutes 1..3 arrive before any span.
        AddPoint(aligner, Metrics, 0, 60_000);
        AddPoint(aligner, Metrics, 1, 120_000);
        AddPoint(aligner, Metrics, 2, 180_000);
        AddSpan(aligner, Spans, 0, 30_000);
        AddSpan(aligner, Spans, 1, 90_000);

        // Spans partition offset 2 ends earlier than offset 1: partition order still wins.
        AddSpan(aligner, Spans, 2, 150_000);
        AddSpan(aligner, Spans, 3, 140_000);

        var order = TakeAll(aligner);

        // Heads compared by their largest event time; expected order worked out by hand from the times above.
        Assert.Equal(
            ["otlp_spans@0", "otlp_metrics@0", "otlp_spans@1", "otlp_metrics@1", "otlp_spans@2", "otlp_spans@3", "otlp_metrics@2"],
            order.Select(static r => $"{r.Record.Topic}@{r.Record.Offset.Value}"));
        Assert.Equal(180_000, aligner.AlignedEventTimeMs);
    }

    [Fact]
    public void TheDecodedPointsAndSpansOfAReleasedRecordAreTheOnesItCarried()
    {
        var (aligner, _, _) = Create();
        aligner.Assign([Metrics, Spans]);
        AddPoint(aligner, Metrics, 0, 60_000, value: 42);
        AddSpan(aligner, Spans, 0, 30_000, service: "checkout");

        Assert.True(aligner.TryTake(out var first));
        Assert.Equal("checkout", Assert.Single(first.Spans).Service);
        Assert.Empty(first.Points);
        Assert.True(aligner.TryTake(out var second));
        Assert.Equal(42, Assert.Single(second.Points).Value);
        Assert.Empty(second.Spans);
    }

    [Fact]
    public void AnEmptyPartitionNotYetReadToItsEndHoldsTheOthersBackForAtMostTheIdleWait()
    {
        var (aligner, flow, clock) = Create(idleWaitMs: 1_000);
        aligner.Assign([Metrics, Spans]);
        flow.AtEnd.Remove(Spans);
        AddPoint(aligner, Metrics, 0, 60_000);

        Assert.False(aligner.TryTake(out _));
        clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(aligner.TryTake(out _));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(aligner.TryTake(out var released));
        Assert.Equal(Metrics, released.Record.TopicPartition);
        Assert.Equal(1, aligner.IdleReleases);

        // The wait is spent while the spans partition stays empty: the next metrics record goes at once.
        AddPoint(aligner, Metrics, 1, 120_000);
        Assert.True(aligner.TryTake(out _));
        Assert.Equal(2, aligner.IdleReleases);
    }

    [Fact]
    public void AnEmptyPartitionKnownToBeAtItsEndHoldsNothingBack()
    {
        var (aligner, flow, _) = Create(idleWaitMs: 600_000);
        aligner.Assign([Metrics, Spans]);
        AddPoint(aligner, Metrics, 0, 60_000);
        flow.AtEnd.Remove(Spans);
        Assert.False(aligner.TryTake(out _));

        // The consumer's next fetch reports the spans partition at its high watermark.
        flow.AtEnd.Add(Spans);
        Assert.True(aligner.TryTake(out _));
        Assert.Equal(0, aligner.IdleReleases);
        Assert.Equal(1, aligner.Waits);
    }

    [Fact]
    public void ARecordThatDoesNotMoveTheWatermarkIsNotHeldBack()
    {
        var (aligner, flow, _) = Create(idleWaitMs: 600_000);
        aligner.Assign([Metrics, Spans]);
        AddPoint(aligner, Metrics, 0, 60_000);
        Assert.True(aligner.TryTake(out _));

        flow.AtEnd.Remove(Spans);

        // Nothing decoded (a dead-lettered record), then a point older than what was handed over:
        // neither can make a span late, so neither waits for the spans partition.
        Open(aligner, Metrics, 1).Process([], []);
        aligner.Close();
        AddPoint(aligner, Metrics, 2, 59_000);
        AddPoint(aligner, Metrics, 3, 61_000);
        Assert.True(aligner.TryTake(out var empty));
        Assert.Equal(1, empty.Record.Offset.Value);
        Assert.True(aligner.TryTake(out var older));
        Assert.Equal(2, older.Record.Offset.Value);
        Assert.False(aligner.TryTake(out _));
        Assert.Equal(60_000, aligner.AlignedEventTimeMs);
    }

    [Fact]
    public void APartitionIsPausedWhenItsBufferIsFullAndResumedWhenItIsBackUnderHalf()
    {
        var (aligner, flow, _) = Create(maxRecords: 4);
        aligner.Assign([Metrics, Spans]);
        for (var i = 0; i < 4; i++)
        {
            AddPoint(aligner, Metrics, i, 60_000 * (i + 1));
        }

        Assert.Equal([Metrics], flow.Paused);
        Assert.True(aligner.TryTake(out _));
        Assert.Equal([Metrics], flow.Paused);

        // 2 of 4 left: half of the bound.
        Assert.True(aligner.TryTake(out _));
        Assert.Empty(flow.Paused);
        Assert.Equal((1, 1), (aligner.Pauses, aligner.Resumes));
    }

    [Fact]
    public void APartitionMoreThanTheSkewAheadOfWhatWasHandedOverIsPaused()
    {
        var (aligner, flow, _) = Create(skewMs: 300_000);
        aligner.Assign([Metrics, Spans]);
        AddSpan(aligner, Spans, 0, 60_000);
        Assert.True(aligner.TryTake(out _));

        // 60 s handed over; minute 6 is exactly 300 s ahead (allowed), minute 7 is past the skew.
        AddPoint(aligner, Metrics, 0, 360_000);
        Assert.Empty(flow.Paused);
        AddPoint(aligner, Metrics, 1, 420_000);
        Assert.Equal([Metrics], flow.Paused);

        // The spans catch up to 300 s: the newest metrics record is then 120 s ahead, under half the skew.
        AddSpan(aligner, Spans, 1, 300_000);
        Assert.True(aligner.TryTake(out var span));
        Assert.Equal(Spans, span.Record.TopicPartition);
        Assert.Empty(flow.Paused);
    }

    [Fact]
    public void ARemovedPartitionsBufferIsDroppedAndItsPauseLifted()
    {
        var (aligner, flow, _) = Create(maxRecords: 1);
        aligner.Assign([Metrics, Spans]);
        AddPoint(aligner, Metrics, 0, 60_000);
        Assert.Equal([Metrics], flow.Paused);

        aligner.Remove([Metrics]);

        Assert.Empty(flow.Paused);
        Assert.Equal(0, aligner.BufferedRecords);
        Assert.False(aligner.TryTake(out _));
    }

    [Fact]
    public void ARecordAtAnOffsetAlreadyBufferedIsRefused()
    {
        var (aligner, _, _) = Create();
        aligner.Assign([Metrics]);
        AddPoint(aligner, Metrics, 0, 60_000);
        AddPoint(aligner, Metrics, 1, 120_000);

        Assert.False(aligner.TryOpen(Record(Metrics, 1), out _));
        Assert.Equal(1, aligner.Redelivered);
        Assert.Equal(2, TakeAll(aligner).Count);
    }

    private static (EventTimeAligner Aligner, ScriptedFlow Flow, ManualClock Clock) Create(int idleWaitMs = 1_000, int maxRecords = 1_000, int skewMs = 300_000)
    {
        var options = new KafkaOptions { MaxIdleWaitMs = idleWaitMs, MaxBufferedRecordsPerPartition = maxRecords, MaxEventTimeSkewMs = skewMs };
        var flow = new ScriptedFlow();
        flow.AtEnd.Add(Metrics);
        flow.AtEnd.Add(Spans);
        var clock = new ManualClock();
        return (new EventTimeAligner(options, flow, clock), flow, clock);
    }

    private static ConsumeResult<byte[]?, byte[]?> Record(TopicPartition partition, long offset) => new()
    {
        TopicPartitionOffset = new TopicPartitionOffset(partition, offset),
        Message = new Message<byte[]?, byte[]?> { Value = new byte[100] },
    };

    private static ITelemetryProcessor Open(EventTimeAligner aligner, TopicPartition partition, long offset)
    {
        Assert.True(aligner.TryOpen(Record(partition, offset), out var sink));
        return sink;
    }

    private static void AddPoint(EventTimeAligner aligner, TopicPartition partition, long offset, long timestampMs, double value = 1)
    {
        Open(aligner, partition, offset).Process([new MetricPoint(new SeriesKey("cart", "cpu"), MetricKind.Generic, timestampMs, value)], []);
        aligner.Close();
    }

    private static void AddSpan(EventTimeAligner aligner, TopicPartition partition, long offset, long endMs, string service = "cart")
    {
        var span = new SpanRecord
        {
            TraceId = 1,
            SpanId = (ulong)offset + 1,
            Service = service,
            Name = "GET /",
            StartUnixNanos = (endMs - 5) * 1_000_000,
            EndUnixNanos = endMs * 1_000_000,
        };
        Open(aligner, partition, offset).Process([], [span]);
        aligner.Close();
    }

    private static List<AlignedRecord> TakeAll(EventTimeAligner aligner)
    {
        var taken = new List<AlignedRecord>();
        while (aligner.TryTake(out var r))
        {
            taken.Add(r);
        }

        return taken;
    }

    /// <summary>A consumer stand-in: which partitions are at their end is set by the test; pauses are recorded.</summary>
    private sealed class ScriptedFlow : IPartitionFlow
    {
        public HashSet<TopicPartition> AtEnd { get; } = [];

        public List<TopicPartition> Paused { get; } = [];

        public void Pause(TopicPartition partition) => Paused.Add(partition);

        public void Resume(TopicPartition partition, long nextOffset) => Assert.True(Paused.Remove(partition), $"{partition} resumed without being paused");

        public bool IsCaughtUp(TopicPartition partition, long nextOffset) => AtEnd.Contains(partition);
    }

    /// <summary>A clock moved only by the test (the aligner reads elapsed time from timestamps).</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
