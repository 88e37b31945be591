using System.Globalization;
using System.Text;
using Aiops.Worker.Hosting;
using Aiops.Worker.Processing;
using Confluent.Kafka;

namespace Aiops.Worker.Tests.Faults;

/// <summary>
/// <c>Checkpoint:Scope=Partition</c> with two workers in one group: partitions move from one to the
/// other (when the second joins, and when the first leaves) and the state each partition ends
/// with is byte-identical to the state of a run without any handover, so no baseline was
/// relearned and every verdict after the handover is the one the undisturbed run gave.
/// </summary>
public sealed class StreamWorkerHandoverTests : IClassFixture<BrokerFixture>
{
    private const int Series = 8;
    private const int Minutes = 720;
    private const long T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

    private readonly BrokerFixture _fixture;

    public StreamWorkerHandoverTests(BrokerFixture fixture) => _fixture = fixture;

    /// <summary>Series s lives on partition s mod 2: an hourly wave plus seeded noise, with a spike at minute 500 + s.</summary>
    private static List<byte[]> Records(int partition, int fromMinute, int toMinute)
    {
        var records = new List<byte[]>();
        for (var m = fromMinute; m < toMinute; m++)
        {
            for (var s = partition; s < Series; s += 2)
            {
                var noise = new Random((s * 100_000) + m).NextDouble();
                var value = 100 + (10 * Math.Sin(2 * Math.PI * m / 60)) + noise + (m == 500 + s ? 80 : 0);
                records.Add(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{{\"type\":\"metric\",\"service\":\"svc-{s}\",\"metric\":\"cpu\",\"ts\":{T0 + (m * 60_000L)},\"value\":{value:R}}}")));
            }
        }

        return records;
    }

    private static void Produce(TestTopics topics, int fromMinute, int toMinute)
    {
        for (var p = 0; p < 2; p++)
        {
            topics.ProduceMany(topics.Metrics, Records(p, fromMinute, toMinute), firstPartition: p);
        }
    }

    /// <summary>
    /// Per-partition checkpoints in <paramref name="store"/>. For the topic store the state topic is
    /// created here (2 partitions), since the mock cluster answers no CreateTopics request.
    /// </summary>
    private static async Task<Dictionary<string, string?>> SettingsAsync(TestTopics topics, string store)
    {
        var settings = topics.Settings("JsonLines");
        settings["Checkpoint:Scope"] = "Partition";
        settings["Checkpoint:IntervalMs"] = "0";
        settings["Checkpoint:Store"] = store;
        if (store == nameof(Options.CheckpointStore.Topic))
        {
            var stateTopic = "state-" + topics.Group;
            await topics.Broker.CreateTopicsAsync([(stateTopic, 2)]);
            settings["Repartition:StateTopic"] = stateTopic;
            settings["Repartition:StatePartitions"] = "2";
        }

        return settings;
    }

    private static Task CommittedToAsync(RunningWorker worker, TestTopics topics, long[] ends, string what) =>
        Wait.UntilAsync(() => worker.Metrics.CommittedOffsetOf(topics.Metrics, 0) >= ends[0] && worker.Metrics.CommittedOffsetOf(topics.Metrics, 1) >= ends[1], what);

    /// <summary>Each metrics partition's saved state, read back through the worker's store (the file, or the state topic).</summary>
    private static byte[][] FinalStates(TestTopics topics, RunningWorker worker, long[] ends)
    {
        var states = worker.Services.GetService(typeof(PartitionStates)) as PartitionStates;
        Assert.NotNull(states);
        return [.. Enumerable.Range(0, 2).Select(p =>
        {
            var saved = states.ReadSaved(new TopicPartition(topics.Metrics, p));
            Assert.NotNull(saved);
            Assert.Equal(ends[p], saved.Value.Next);
            return saved.Value.State;
        })];
    }

    [Theory]
    [InlineData("Directory")]
    [InlineData("Topic")]
    public async Task PartitionsHandedOverBetweenTwoWorkersEndWithTheStateOfARunWithoutHandover(string store)
    {
        // The undisturbed run: one worker reads everything.
        var calm = new TestTopics(_fixture.Broker);
        await calm.CreateAsync(partitions: 2);
        Produce(calm, 0, Minutes);
        var ends = calm.EndOffsets(calm.Metrics, 2);
        byte[][] expected;
        long expectedAnomalies;
        await using (var worker = await RunningWorker.StartAsync(await SettingsAsync(calm, store), CoreServices.Register))
        {
            await CommittedToAsync(worker, calm, ends, "the undisturbed run to finish");
            await worker.StopAsync();
            expected = FinalStates(calm, worker, ends);
            expectedAnomalies = worker.Metrics.Anomalies;
        }

        // The same records, half read by worker A alone; B joins (the cooperative assignor moves two of
        // the four partitions to it), A leaves (the rest move), B reads the second half.
        var moved = new TestTopics(_fixture.Broker);
        await moved.CreateAsync(partitions: 2);
        Produce(moved, 0, Minutes / 2);
        var half = moved.EndOffsets(moved.Metrics, 2);
        var settings = await SettingsAsync(moved, store);
        var a = await RunningWorker.StartAsync(settings, CoreServices.Register);
        await CommittedToAsync(a, moved, half, "worker A through the first half");
        await using var b = await RunningWorker.StartAsync(settings, CoreServices.Register);
        // Four partitions in all (the metrics and the spans topic have two each): two each once B is in.
        await Wait.UntilAsync(() => b.Metrics.AssignedPartitions == 2 && a.Metrics.AssignedPartitions == 2, "the partitions split between A and B");
        await a.DisposeAsync();
        await Wait.UntilAsync(() => b.Metrics.AssignedPartitions == 4, "B owning every partition after A left");
        Produce(moved, Minutes / 2, Minutes);
        await CommittedToAsync(b, moved, ends, "worker B through the second half");
        await b.StopAsync();

        var actual = FinalStates(moved, b, ends);
        // The topic store keeps nothing on disk: the states came back through the state topic.
        Assert.Equal(store == "Directory", Directory.Exists(moved.StateDirectory) && Directory.EnumerateFiles(moved.StateDirectory, "*.state", SearchOption.AllDirectories).Any());
        Assert.True(expected[0].AsSpan().SequenceEqual(actual[0]), "partition 0 state differs from the undisturbed run");
        Assert.True(expected[1].AsSpan().SequenceEqual(actual[1]), "partition 1 state differs from the undisturbed run");

        // The planted spikes raised verdicts (so the comparison covers detectors that fired).
        Assert.True(expectedAnomalies > 0, "the undisturbed run raised verdicts");
    }
}
