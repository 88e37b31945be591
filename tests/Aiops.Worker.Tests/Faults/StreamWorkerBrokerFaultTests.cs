using System.Globalization;
using System.Text;
using Aiops.Worker.Kafka;
using Confluent.Kafka;

namespace Aiops.Worker.Tests.Faults;

/// <summary>
/// Broker faults injected into the mock cluster through librdkafka's C API: every broker down
/// and back, and error answers to Produce, Fetch and OffsetCommit requests. No record is lost, the
/// worker does not stop, no incident is lost or duplicated, and the lag drains. Each test has its
/// own cluster, since the faults hit every client of it.
/// </summary>
public sealed class StreamWorkerBrokerFaultTests
{
    private const int Total = 3_000;

    private static byte[] Line(long ts, double value) =>
        Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"svc,latency,{ts},{value}"));

    /// <summary>A spike every 100th point: incidents inc-0, inc-100, … (RecordingProcessor).</summary>
    private static List<byte[]> Records(int from, int to) => [.. Enumerable.Range(from, to - from).Select(static i => Line(i, i % 100 == 0 ? 5_000 : 1))];

    private static async Task AssertNothingLostAsync(TestTopics topics, RunningWorker worker, RecordingProcessor processor)
    {
        await Wait.UntilAsync(() => topics.CommittedOffsets(topics.Metrics, 2).Sum() == Total, () => $"every record committed (lag drained); committed {string.Join(",", topics.CommittedOffsets(topics.Metrics, 2))}", TimeSpan.FromSeconds(40));

        // No record lost: every timestamp reached the processor (a record read twice after the
        // group forgot the member during the outage is allowed: at least once).
        var seen = processor.Seen.Select(static p => p.TimestampMs).ToHashSet();
        Assert.Equal(Total, seen.Count);
        Assert.Equal(0, worker.Metrics.DeadLetters);

        var ids = topics.ReadAll(topics.Incidents, expected: Total / 100, settle: TimeSpan.FromSeconds(1))
            .Select(static r => Encoding.UTF8.GetString(r.Message.Key!)).ToList();
        Assert.Equal(Enumerable.Range(0, Total / 100).Select(static i => "inc-" + (i * 100).ToString(CultureInfo.InvariantCulture)).Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AllBrokersDownForThirtySecondsAndBackLosesNothingAndTheLagDrains()
    {
        using var broker = EmbeddedBroker.Start();
        var topics = new TestTopics(broker);
        await topics.CreateAsync(partitions: 2);
        topics.ProduceMany(topics.Metrics, Records(0, Total / 2), partitions: 2);
        var processor = new RecordingProcessor();
        await using var worker = await RunningWorker.StartAsync(topics.Settings(), RunningWorker.Fakes(processor));
        await Wait.UntilAsync(() => processor.TotalPoints >= 500, "the worker mid-stream");

        // The issue's 30 s: five times the group's 6 s session timeout, so the group also forgets
        // the member and the worker must rejoin; every client's requests time out meanwhile.
        broker.SetAllBrokersDown();
        var lateProducer = Task.Run(() => topics.ProduceMany(topics.Metrics, Records(Total / 2, Total), partitions: 2));
        await Task.Delay(TimeSpan.FromSeconds(30));
        var duringOutage = processor.TotalPoints;
        broker.SetAllBrokersUp();
        await lateProducer;

        await AssertNothingLostAsync(topics, worker, processor);
        Assert.InRange(duringOutage, 500, Total / 2);
        await Wait.UntilAsync(() => worker.Metrics.ConsumerLag == 0, "the lag gauge at 0");
    }

    [Fact]
    public async Task ErrorAnswersToProduceFetchAndCommitRequestsAreRetriedWithoutLoss()
    {
        using var broker = EmbeddedBroker.Start();
        var topics = new TestTopics(broker);
        await topics.CreateAsync(partitions: 2);
        var processor = new RecordingProcessor();
        await using var worker = await RunningWorker.StartAsync(topics.Settings(), RunningWorker.Fakes(processor));

        // Retriable errors a real cluster answers during leader moves and overload, each pushed
        // several times: the input producer, the worker's fetches, its incident and dead-letter
        // produces and its offset commits all meet some of them.
        var produceErrors = new[] { ErrorCode.NotLeaderForPartition, ErrorCode.RequestTimedOut, ErrorCode.NotEnoughReplicas, ErrorCode.LeaderNotAvailable };
        broker.PushRequestErrors(KafkaApiKey.Produce, [.. Enumerable.Repeat(produceErrors, 3).SelectMany(static e => e)]);
        broker.PushRequestErrors(KafkaApiKey.Fetch, [.. Enumerable.Repeat(new[] { ErrorCode.NotLeaderForPartition, ErrorCode.UnknownTopicOrPart, ErrorCode.LeaderNotAvailable }, 4).SelectMany(static e => e)]);
        topics.ProduceMany(topics.Metrics, Records(0, Total / 2), partitions: 2);
        await Wait.UntilAsync(() => processor.TotalPoints >= 1_000, "the worker mid-stream");
        broker.PushRequestErrors(KafkaApiKey.Produce, [.. Enumerable.Repeat(produceErrors, 3).SelectMany(static e => e)]);
        broker.PushRequestErrors(KafkaApiKey.OffsetCommit, ErrorCode.RequestTimedOut, ErrorCode.GroupLoadInProgress, ErrorCode.NotCoordinatorForGroup);
        topics.ProduceMany(topics.Metrics, Records(Total / 2, Total), partitions: 2);

        await AssertNothingLostAsync(topics, worker, processor);
    }
}
