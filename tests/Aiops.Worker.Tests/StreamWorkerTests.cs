using System.Globalization;
using System.Net.Http;
using System.Text;
using Aiops.Worker.Processing;
using Aiops.Worker.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace Aiops.Worker.Tests;

/// <summary>The consume → decode → dead letter → produce → commit plumbing, on the embedded broker over real sockets.</summary>
public sealed class StreamWorkerTests : IClassFixture<BrokerFixture>
{
    private readonly BrokerFixture _fixture;

    public StreamWorkerTests(BrokerFixture fixture) => _fixture = fixture;

    private static byte[] Line(long ts, double value) =>
        Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"svc,latency,{ts},{value}"));

    [Fact]
    public async Task AMalformedRecordLandsInTheDeadLetterTopicAndTheGoodRecordsAroundItAreAllProcessed()
    {
        var topics = new TestTopics(_fixture.Broker);
        await topics.CreateAsync();
        var bad = Encoding.UTF8.GetBytes("this is not a metric");
        var records = new List<byte[]>();
        for (var i = 0; i < 5; i++)
        {
            records.Add(Line(1_000 + i, 10 + i));
        }

        records.Add(bad);
        for (var i = 5; i < 10; i++)
        {
            records.Add(Line(1_000 + i, 10 + i));
        }

        await topics.ProduceAsync(topics.Metrics, records);
        var processor = new RecordingProcessor();
        await using (var worker = await RunningWorker.StartAsync(topics.Settings(), RunningWorker.Fakes(processor)))
        {
            await Wait.UntilAsync(() => processor.TotalPoints == 10 && worker.Metrics.DeadLetters == 1, "10 points and 1 dead letter");
            await Wait.UntilAsync(() => worker.Metrics.Commits > 0, "a commit");
        }

        // The ten good records, in order, before and after the bad one (offset 5).
        Assert.Equal(Enumerable.Range(1_000, 10).Select(static t => (long)t), processor.Seen.Select(static p => p.TimestampMs));

        var dead = Assert.Single(topics.ReadAll(topics.DeadLetters, expected: 1));
        Assert.Equal(bad, dead.Message.Value);
        string Header(string key) => Encoding.UTF8.GetString(dead.Message.Headers.GetLastBytes(key));
        Assert.Equal("MalformedJson", Header(StreamWorker.HeaderErrorKind));
        Assert.Equal("MalformedJson: expected service,metric,ts,value", Header(StreamWorker.HeaderErrorReason));
        Assert.Equal("false", Header(StreamWorker.HeaderPartial));
        Assert.Equal(topics.Metrics, Header(StreamWorker.HeaderSourceTopic));
        Assert.Equal("0", Header(StreamWorker.HeaderSourcePartition));
        Assert.Equal("5", Header(StreamWorker.HeaderSourceOffset));

        // All 11 records (offsets 0..10) processed, so the committed position is 11.
        Assert.Equal(11, topics.CommittedOffset(topics.Metrics));
    }

    [Fact]
    public async Task PoisonRecordsAreDeadLetteredWithoutBlockingThePartition()
    {
        var topics = new TestTopics(_fixture.Broker);
        await topics.CreateAsync();
        var oversized = new byte[5_000];
        Array.Fill(oversized, (byte)'x');
        var poison = Line(1_002, RecordingProcessor.PoisonValue);
        await topics.ProduceAsync(topics.Metrics, [Line(1_000, 1), oversized, Line(1_001, 2), poison, Line(1_003, 3)]);
        var settings = topics.Settings();
        settings["Limits:MaxRecordBytes"] = "4096";
        settings["Limits:MaxDeadLetterValueBytes"] = "1000";
        var processor = new RecordingProcessor();
        await using (var worker = await RunningWorker.StartAsync(settings, RunningWorker.Fakes(processor)))
        {
            await Wait.UntilAsync(() => processor.TotalPoints == 3 && worker.Metrics.DeadLetters == 2 && topics.CommittedOffset(topics.Metrics) == 5, "3 points, 2 dead letters and offset 5 committed");
        }

        Assert.Equal([1_000L, 1_001L, 1_003L], processor.Seen.Select(static p => p.TimestampMs));
        var dead = topics.ReadAll(topics.DeadLetters, expected: 2);
        Assert.Equal(2, dead.Count);
        string Header(int i, string key) => Encoding.UTF8.GetString(dead[i].Message.Headers.GetLastBytes(key));

        // The 5,000-byte record: cut to Limits:MaxDeadLetterValueBytes, its full size in a header.
        Assert.Equal("Oversized", Header(0, StreamWorker.HeaderErrorKind));
        Assert.Equal(oversized.AsSpan(0, 1_000).ToArray(), dead[0].Message.Value);
        Assert.Equal("true", Header(0, StreamWorker.HeaderTruncated));
        Assert.Equal("5000", Header(0, StreamWorker.HeaderSourceBytes));

        // The record the processor threw on: whole, named by the exception.
        Assert.Equal(RecordHandler.ProcessingExceptionKind, Header(1, StreamWorker.HeaderErrorKind));
        Assert.Equal(poison, dead[1].Message.Value);
        Assert.Equal("false", Header(1, StreamWorker.HeaderTruncated));
        Assert.Equal("3", Header(1, StreamWorker.HeaderSourceOffset));
    }

    [Fact]
    public async Task IncidentsAreProducedAsJsonKeyedByIncidentIdAndTheMetricsEndpointCountsThem()
    {
        var topics = new TestTopics(_fixture.Broker);
        await topics.CreateAsync();
        await topics.ProduceAsync(topics.Metrics, [Line(5_000, 1), Line(6_000, 2_000), Line(7_000, 3)]);
        var processor = new RecordingProcessor();
        string metricsText;
        await using (var worker = await RunningWorker.StartAsync(topics.Settings(), RunningWorker.Fakes(processor)))
        {
            await Wait.UntilAsync(() => worker.Metrics.IncidentEvents == 1 && worker.Metrics.Commits > 0, "one incident event and a commit");
            var endpoint = await worker.Services.GetRequiredService<MetricsServer>().BoundEndpoint;
            using var http = new HttpClient();
            metricsText = await http.GetStringAsync(new Uri($"http://{endpoint}/metrics"));
            var health = await http.GetAsync(new Uri($"http://{endpoint}/healthz"));
            Assert.True(health.IsSuccessStatusCode, "the health endpoint answers 2xx while consuming");
        }

        var incident = Assert.Single(topics.ReadAll(topics.Incidents, expected: 1));
        // The recording processor names the incident after the spiking point's timestamp (6000).
        Assert.Equal("inc-6000", Encoding.UTF8.GetString(incident.Message.Key!));
        var message = IncidentJsonContext.FromUtf8(incident.Message.Value);
        Assert.NotNull(message);
        Assert.Equal("inc-6000", message.IncidentId);
        Assert.Equal("open", message.Event);
        Assert.Equal("svc", message.RootCauses[0].Service);

        Assert.Contains("aiops_records_total{signal=\"metrics\"} 3\n", metricsText, StringComparison.Ordinal);
        Assert.Contains("aiops_points_total 3\n", metricsText, StringComparison.Ordinal);
        Assert.Contains("aiops_incident_events_total 1\n", metricsText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoppingTheWorkerMidStreamAndStartingItAgainLosesNoIncidentAndDuplicatesNone()
    {
        var topics = new TestTopics(_fixture.Broker);
        await topics.CreateAsync(partitions: 2);
        const int Total = 2_000;

        // A spike every 100th point: 20 incidents expected, ids inc-0, inc-100, ... inc-1900.
        var records = Enumerable.Range(0, Total).Select(i => Line(i, i % 100 == 0 ? 5_000 : 1)).ToList();
        await topics.ProduceAsync(topics.Metrics, records);
        var settings = topics.Settings();
        settings["Kafka:MaxBatchRecords"] = "50";

        var first = new RecordingProcessor();
        long firstCount;
        await using (var worker = await RunningWorker.StartAsync(settings, RunningWorker.Fakes(first)))
        {
            await Wait.UntilAsync(() => first.TotalPoints >= 300, "the first worker to be mid-stream");
        }

        firstCount = first.TotalPoints;
        Assert.InRange(firstCount, 300, Total - 1);

        var second = new RecordingProcessor();
        await using (var worker = await RunningWorker.StartAsync(settings, RunningWorker.Fakes(second)))
        {
            await Wait.UntilAsync(() => second.TotalPoints >= Total, () => $"the second worker to reach the end: restored {second.RestoredCount}, total {second.TotalPoints}, first {firstCount}, dead letters {worker.Metrics.DeadLetters}, records {worker.Metrics.Records}");
        }

        // The second worker restored the first one's checkpoint and read only what was not committed.
        Assert.Equal(firstCount, second.RestoredCount);
        Assert.Equal(Total, second.TotalPoints);

        var ids = topics.ReadAll(topics.Incidents, expected: 20, settle: TimeSpan.FromSeconds(2))
            .Select(static r => Encoding.UTF8.GetString(r.Message.Key!)).ToList();
        var expected = Enumerable.Range(0, 20).Select(static i => "inc-" + (i * 100).ToString(CultureInfo.InvariantCulture)).Order(StringComparer.Ordinal);
        Assert.Equal(expected, ids.Order(StringComparer.Ordinal));
    }
}
