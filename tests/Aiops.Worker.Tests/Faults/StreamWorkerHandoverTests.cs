using Aiops.Worker.Hosting;

namespace Aiops.Worker.Tests.Faults;

/// <summary>
/// <c>Checkpoint:Scope=Partition</c> with two workers in one group: partitions move from one to the
/// other (when the second joins, and when the first leaves) and the state each partition ends
/// with is byte-identical to the state of a run without any handover, so no baseline was
/// relearned and every verdict after the handover is the one the undisturbed run gave.
/// </summary>
public sealed class StreamWorkerHandoverTests : IClassFixture<BrokerFixture>
{
    private const int Minutes = 720;

    private readonly BrokerFixture _fixture;

    public StreamWorkerHandoverTests(BrokerFixture fixture) => _fixture = fixture;

    /// <summary>Eight series on two partitions, each with a spike of 80 at minute 500 + s, checkpointed to <paramref name="store"/>.</summary>
    private static PartitionedWorkload Workload(string store) => new() { Partitions = 2, Series = 8, Fault = static (s, m) => m == 500 + s ? 80 : 0, Store = store };

    [Theory]
    [InlineData("Directory")]
    [InlineData("Topic")]
    public async Task PartitionsHandedOverBetweenTwoWorkersEndWithTheStateOfARunWithoutHandover(string store)
    {
        var workload = Workload(store);
        // The undisturbed run: one worker reads everything.
        var calm = await workload.RunUndisturbedAsync(_fixture.Broker, Minutes);
        var ends = calm.Ends;

        // The same records, half read by worker A alone; B joins (the cooperative assignor moves two of
        // the four partitions to it), A leaves (the rest move), B reads the second half.
        var moved = new TestTopics(_fixture.Broker);
        await moved.CreateAsync(partitions: 2);
        workload.Produce(moved, 0, Minutes / 2);
        var half = moved.EndOffsets(moved.Metrics, 2);
        var settings = await workload.SettingsAsync(moved);
        var a = await RunningWorker.StartAsync(settings, CoreServices.Register);
        await PartitionedWorkload.CommittedToAsync(a, moved, half, "worker A through the first half");
        await using var b = await RunningWorker.StartAsync(settings, CoreServices.Register);
        // Four partitions in all (the metrics and the spans topic have two each): two each once B is in.
        await Wait.UntilAsync(() => b.Metrics.AssignedPartitions == 2 && a.Metrics.AssignedPartitions == 2, "the partitions split between A and B");
        await a.DisposeAsync();
        await Wait.UntilAsync(() => b.Metrics.AssignedPartitions == 4, "B owning every partition after A left");
        workload.Produce(moved, Minutes / 2, Minutes);
        await PartitionedWorkload.CommittedToAsync(b, moved, ends, "worker B through the second half");
        await b.StopAsync();

        PartitionedWorkload.AssertSameStates(calm.States, PartitionedWorkload.FinalStates(moved, b, ends));

        // The topic store keeps nothing on disk: the states came back through the state topic.
        Assert.Equal(store == "Directory", Directory.Exists(moved.StateDirectory) && Directory.EnumerateFiles(moved.StateDirectory, "*.state", SearchOption.AllDirectories).Any());

        // The planted spikes raised verdicts (so the comparison covers detectors that fired).
        Assert.True(calm.Anomalies > 0, "the undisturbed run raised verdicts");
    }
}
