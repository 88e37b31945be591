using System.Text;
using Aiops.Worker.Demo;
using Aiops.Worker.Hosting;
using Aiops.Worker.Tests.Faults;

namespace Aiops.Worker.Tests;

/// <summary>
/// The stage-C checkpoint (<c>Repartition:Enabled</c>, the verdicts partition saved with its
/// offset by <see cref="Processing.Repartition.StageCheckpoints"/>) on the mock cluster: a worker
/// stopped while an incident is open and a new one started in the same group give that incident's
/// later events once, exactly as a worker that ran throughout.
/// </summary>
public sealed class RepartitionCorrelationCheckpointTests : IClassFixture<BrokerFixture>
{
    private const int Partitions = 3;

    /// <summary>The step runs from minute 240 to 270; the first worker stops after minute 255, in the middle of it.</summary>
    private const int StopAfter = 255;

    private const int Minutes = 330;

    /// <summary>
    /// Six flat series (level 100, noise uniform in [0, 10)) on three metrics partitions; series 0
    /// (<c>svc-0</c>) runs 80 above its level for minutes 240-269, the step of
    /// <see cref="StreamWorkerScaleOutTests"/> that opens an incident every time. Resource points
    /// only, so stages A and B hold no open RED bucket at the stop and stage C's state is what decides.
    /// </summary>
    private static readonly PartitionedWorkload Workload = new()
    {
        Partitions = Partitions,
        Series = 6,
        Wave = 0,
        Noise = 10,
        Fault = static (s, m) => s == 0 && m >= 240 && m < 270 ? 80 : 0,
    };

    private readonly BrokerFixture _fixture;

    public RepartitionCorrelationCheckpointTests(BrokerFixture fixture) => _fixture = fixture;

    private static Dictionary<string, string?> Settings(TestTopics topics, string group, string suffix, string incidents)
    {
        var settings = RepartitionCheckpointTests.Settings(topics, group, suffix, incidents);
        settings["Kafka:MetricsEncoding"] = "JsonLines";
        settings["Kafka:SpansEncoding"] = "JsonLines";
        return settings;
    }

    /// <summary>Every incident event on <paramref name="topic"/> as "key JSON", sorted; reading settles 2 s past <paramref name="expected"/> to catch extras.</summary>
    private static List<string> Events(TestTopics topics, string topic, int expected) =>
        [.. topics.ReadAll(topic, expected, settle: TimeSpan.FromSeconds(2), limit: TimeSpan.FromSeconds(30))
            .Select(static r => Encoding.UTF8.GetString(r.Message.Key!) + " " + Encoding.UTF8.GetString(r.Message.Value!))
            .Order(StringComparer.Ordinal)];

    /// <param name="killed">
    /// False: the first worker stops gracefully (every stage, stage C included, saved before its
    /// offsets are committed). True: it is killed right after Kafka acknowledged the batch that
    /// wrote the open event, before any stage was saved or an offset committed
    /// (<see cref="Processing.CrashPoint.AfterFlush"/>): the next owner replays the verdicts since
    /// the last save and must recognise the open event already on the topic (the ledger, read from
    /// the incidents topic's marks in the stage-C checkpoint) instead of writing it twice.
    /// </param>
    private static string Describe(IncidentWatcher watcher) =>
        $"{watcher.Messages.Count}: " + string.Join(", ", watcher.Messages.Select(static m => m.IncidentId[..12] + " " + m.Event + " " + m.EventTimeMs + " n=" + m.Anomalies.Count));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AWorkerStoppedWhileAnIncidentIsOpenAndARestartedOneGiveItsUpdatesAndResolveOnce(bool killed)
    {
        var topics = new TestTopics(_fixture.Broker);
        await topics.CreateAsync(Partitions);
        string suffix = topics.Group[2..];
        string referenceGroup = topics.Group + "-ref";
        string referenceIncidents = topics.Incidents + "-ref";
        await _fixture.Broker.CreateTopicsAsync([
            ("red-" + suffix, 2), ("verdicts-" + suffix, 1),
            ("red-" + suffix + "-ref", 2), ("verdicts-" + suffix + "-ref", 1), (referenceIncidents, 1)]);
        var restarted = Settings(topics, topics.Group, suffix, topics.Incidents);
        var reference = Settings(topics, referenceGroup, suffix + "-ref", referenceIncidents);

        using var watcher = new IncidentWatcher(_fixture.Broker.BootstrapServers, topics.Incidents);
        using var referenceWatcher = new IncidentWatcher(_fixture.Broker.BootstrapServers, referenceIncidents);
        const int all = (2 * Partitions) + 2 + 1;

        // Each part is on the topics before a worker reads it: a worker reading while the producer
        // fills one partition after the other would find a partition at its end early and advance
        // it to the others' event time (the idle rule), making its later records late; a backlog
        // that ends at the same minute on every partition gives every group the same order.
        // Up to the middle of the step: the incident opens, and the first worker stops (gracefully:
        // every stage, stage C included, is saved before its offsets are committed).
        Workload.Produce(topics, 0, StopAfter);
        var half = topics.EndOffsets(topics.Metrics, Partitions);
        var first = await RunningWorker.StartAsync(restarted, CoreServices.Register);
        var crashed = killed ? Kill.At(first, Processing.CrashPoint.AfterFlush, static incidents => incidents > 0) : null;
        await Wait.UntilAsync(() => watcher.Messages.Any(static m => m.Event == "open"), () => $"the incident to open before the stop ({watcher.Messages.Count} events)", TimeSpan.FromSeconds(90));
        if (crashed is not null)
        {
            await Wait.UntilAsync(crashed, "the kill right after the open event was acknowledged");
        }
        else
        {
            await Wait.UntilAsync(() => topics.CommittedOffsets(topics.Metrics, Partitions).SequenceEqual(half), "the first worker through the first part");
        }

        await first.DisposeAsync();
        var open = Assert.Single(watcher.Messages, static m => m.Event == "open");
        Assert.DoesNotContain(watcher.Messages, static m => m.Event == "resolve");

        // The second worker restores stage C from the verdicts partition's checkpoint and reads the
        // rest; the reference group reads everything from the start, undisturbed.
        Workload.Produce(topics, StopAfter, Minutes);
        await using var second = await RunningWorker.StartAsync(restarted, CoreServices.Register);
        await using var referenceWorker = await RunningWorker.StartAsync(reference, CoreServices.Register);
        await Wait.UntilAsync(() => second.Metrics.AssignedPartitions == all, () => $"the second worker to hold the {all} partitions ({second.Metrics.AssignedPartitions})", TimeSpan.FromSeconds(60));
        await Wait.UntilAsync(
            () => referenceWatcher.Messages.Any(static m => m.Event == "resolve") && watcher.Messages.Any(static m => m.Event == "resolve"),
            () => $"both groups to resolve the incident ({referenceWatcher.Messages.Count} and {watcher.Messages.Count} events)",
            TimeSpan.FromSeconds(90));

        // Their event counts equal and unchanged for 3 s: the internal topics never drain (idle
        // inputs keep sending watermarks), so the last events reach each topic at its own pace.
        int settled = -1;
        for (var quiet = 0; quiet < 3;)
        {
            await Wait.UntilAsync(
                () => watcher.Messages.Count == referenceWatcher.Messages.Count,
                () => $"both groups to write as many events ({Describe(watcher)} and {Describe(referenceWatcher)})",
                TimeSpan.FromSeconds(60));
            quiet = watcher.Messages.Count == settled ? quiet + 1 : 0;
            settled = watcher.Messages.Count;
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        await second.StopAsync();
        await referenceWorker.StopAsync();
        if (killed)
        {
            // The replayed open (at least) was recognised on the topic and not written again.
            Assert.True(second.Metrics.IncidentsSuppressed >= 1, $"a replayed incident event was suppressed ({second.Metrics.IncidentsSuppressed})");
        }

        // The incident open at the stop got its resolve from the restarted worker, under its id, once;
        // every event (open, updates, resolve: ids, times, scores, evidence) is the reference's, none twice.
        var expected = Events(topics, referenceIncidents, referenceWatcher.Messages.Count);
        var actual = Events(topics, topics.Incidents, expected.Count);
        Assert.Contains(expected, static e => e.Contains("\"event\":\"update\"", StringComparison.Ordinal) || e.Contains("\"event\":\"resolve\"", StringComparison.Ordinal));
        Assert.Equal(expected, actual);
        Assert.Single(actual, e => e.StartsWith(open.IncidentId, StringComparison.Ordinal) && e.Contains("\"event\":\"resolve\"", StringComparison.Ordinal));
    }
}
