using System.Globalization;
using System.Text;
using Aiops.Worker.Processing;

namespace Aiops.Worker.Tests.Faults;

/// <summary>
/// A worker killed without shutdown (in-process: the loop ends without checkpoint, commit or
/// leaving the group, and its clients are disposed without closing) and restarted in the same
/// group loses no incident and duplicates none, wherever between produce and commit it died.
/// </summary>
public sealed class StreamWorkerCrashTests : IClassFixture<BrokerFixture>
{
    private const int Total = 2_000;

    private readonly BrokerFixture _fixture;

    public StreamWorkerCrashTests(BrokerFixture fixture) => _fixture = fixture;

    private static byte[] Line(long ts, double value) =>
        Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"svc,latency,{ts},{value}"));

    [Theory]
    [InlineData(nameof(CrashPoint.AfterFlush))]
    [InlineData(nameof(CrashPoint.AfterCheckpoint))]
    public async Task AKilledWorkerRestartedInTheSameGroupLosesNoIncidentAndDuplicatesNone(string point)
    {
        var crashAt = Enum.Parse<CrashPoint>(point);
        var topics = new TestTopics(_fixture.Broker);
        await topics.CreateAsync(partitions: 2);

        // A spike every 100th point: 20 incidents, ids inc-0, inc-100, ... inc-1900 (RecordingProcessor).
        topics.ProduceMany(topics.Metrics, [.. Enumerable.Range(0, Total).Select(static i => Line(i, i % 100 == 0 ? 5_000 : 1))], partitions: 2);
        var settings = topics.Settings();
        settings["Kafka:MaxBatchRecords"] = "50";

        // Checkpoint every batch, so the crash point decides what the restart finds: after the
        // flush, the checkpoint is one batch behind the incidents on the topic; after the
        // checkpoint, the committed offsets are one batch behind the checkpoint.
        var first = new RecordingProcessor();
        await using (var worker = await RunningWorker.StartAsync(settings, RunningWorker.Fakes(first)))
        {
            var crashed = Kill.At(worker, crashAt, incidents => incidents > 0 && first.TotalPoints >= 600);
            await Wait.UntilAsync(crashed, "the crash point to be reached with incidents in the batch");
        }

        Assert.InRange(first.TotalPoints, 600, Total - 1);
        var second = new RecordingProcessor();
        await using (var worker = await RunningWorker.StartAsync(settings, RunningWorker.Fakes(second)))
        {
            await Wait.UntilAsync(() => second.TotalPoints >= Total && worker.Metrics.Commits > 0, () => $"the restarted worker to reach the end: restored {second.RestoredCount}, total {second.TotalPoints}");
            await Wait.UntilAsync(() => topics.CommittedOffsets(topics.Metrics, 2).Sum() == Total, "every record committed");
            if (crashAt == CrashPoint.AfterFlush)
            {
                // The batch the first worker died in was replayed; its incidents, already on the
                // topic, were recognised (read back after the checkpoint's marks) and not sent again.
                Assert.True(worker.Metrics.IncidentsSuppressed >= 1, "a replayed incident was suppressed");
            }
        }

        // Every record reached the detectors' state exactly once: the restart resumed from the
        // checkpoint's offsets, not from the committed ones.
        Assert.Equal(Total, second.TotalPoints);

        var ids = topics.ReadAll(topics.Incidents, expected: 20, settle: TimeSpan.FromSeconds(2))
            .Select(static r => Encoding.UTF8.GetString(r.Message.Key!)).ToList();
        var expected = Enumerable.Range(0, 20).Select(static i => "inc-" + (i * 100).ToString(CultureInfo.InvariantCulture)).Order(StringComparer.Ordinal);
        Assert.Equal(expected, ids.Order(StringComparer.Ordinal));
    }
}
