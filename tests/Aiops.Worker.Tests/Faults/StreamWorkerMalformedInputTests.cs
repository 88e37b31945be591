using System.Text;
using Aiops.Core;
using Aiops.Pipeline;
using Aiops.Worker.Hosting;
using Aiops.Worker.Processing;
using Microsoft.Extensions.DependencyInjection;

namespace Aiops.Worker.Tests.Faults;

/// <summary>
/// 10,000 malformed records of 19 kinds mixed with 5,000 good ones, through the real decoders and
/// the real pipeline on the embedded broker: every bad one is dead-lettered with a reason, every
/// good one is processed, and memory stays bounded.
/// </summary>
public sealed class StreamWorkerMalformedInputTests : IClassFixture<BrokerFixture>
{
    private const int BadRecords = 10_000;
    private const int GoodMetrics = 3_000;
    private const int GoodSpans = 2_000;
    private const int TenMegabyteRecords = 3;
    private const int MaxSeries = 200;

    private readonly BrokerFixture _fixture;

    public StreamWorkerMalformedInputTests(BrokerFixture fixture) => _fixture = fixture;

    [Fact]
    public async Task EveryBadRecordIsDeadLetteredWithAReasonAndEveryGoodOneIsProcessedInBoundedMemory()
    {
        var topics = new TestTopics(_fixture.Broker);
        // Four dead-letter partitions: the mock keeps 5 MiB per partition, and 10,000 dead letters
        // (three of them 900 KB cut copies) would overflow one.
        await topics.Broker.CreateTopicsAsync([(topics.Metrics, 3), (topics.Spans, 3), (topics.Incidents, 1), (topics.DeadLetters, 4)]);
        var random = new Random(20261125);
        // The mock cluster deletes any message set over 5 MiB as soon as it is appended (librdkafka
        // rdkafka_mock.c caps a partition's log at 5 MiB, dropping the oldest sets, the new one
        // included), so a 10 MB record cannot travel through it: the oversized kind is 4.5 MiB
        // here (random bytes: incompressible), against Limits:MaxRecordBytes = 4 MiB. A real 10 MB
        // record travels compressed (LZ4) in StreamWorkerLargeRecordTests.
        var tenMegabytes = new byte[(4 << 20) + (512 << 10)];
        random.NextBytes(tenMegabytes);

        // Good metrics over 1,000 series (5 times Limits:MaxSeries), good spans with unique ids,
        // and the bad records spread evenly over the kinds (the 10 MB kind only 3 times), shuffled.
        var metrics = new List<(byte[] Value, int Kind)>();
        var spans = new List<(byte[] Value, int Kind)>();
        for (var i = 0; i < GoodMetrics; i++)
        {
            metrics.Add((MalformedRecords.GoodMetric(i % 1_000, i / 1_000, 50 + (i % 7)), -1));
        }

        for (var i = 0; i < GoodSpans; i++)
        {
            spans.Add((MalformedRecords.GoodSpan((ulong)i + 1, i / 500), -1));
        }

        var kinds = MalformedRecords.Kinds;
        var perKind = (BadRecords - TenMegabyteRecords) / (kinds.Length - 2);
        var made = 0;
        for (var k = 0; k < kinds.Length - 1; k++)
        {
            var count = k == kinds.Length - 2 ? BadRecords - made - TenMegabyteRecords : perKind;
            for (var i = 0; i < count; i++)
            {
                (kinds[k].Topic == 'm' ? metrics : spans).Add((MalformedRecords.Bad(k, made + i, random, tenMegabytes), k));
            }

            made += count;
        }

        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(metrics));
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(spans));

        // Where each record landed: the dead letters are matched back to it by source topic, partition and offset.
        var expected = new Dictionary<(string Topic, int Partition, long Offset), int>();
        void Landed(string topic, List<(byte[] Value, int Kind)> records, List<Confluent.Kafka.TopicPartitionOffset> landed)
        {
            for (var i = 0; i < landed.Count; i++)
            {
                expected[(topic, landed[i].Partition.Value, landed[i].Offset.Value)] = records[i].Kind;
            }
        }

        Landed(topics.Metrics, metrics, topics.ProduceMany(topics.Metrics, [.. metrics.Select(static r => r.Value)], partitions: 2));
        Landed(topics.Spans, spans, topics.ProduceMany(topics.Spans, [.. spans.Select(static r => r.Value)], partitions: 2));
        metrics.Clear();
        spans.Clear();

        var settings = topics.Settings("JsonLines");
        settings["Kafka:SpansEncoding"] = "OtlpProtobuf";
        settings["Kafka:MaxBatchRecords"] = "1000";
        settings["Limits:MaxSeries"] = MaxSeries.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Limits:MaxRecordBytes"] = (4 << 20).ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Checkpoint:IntervalMs"] = "5000";

        var counted = new CountingProcessor();
        long heapBefore;
        long heapPeak = 0;
        await using (var worker = await RunningWorker.StartAsync(settings, counted.Register))
        {
            heapBefore = GC.GetTotalMemory(forceFullCollection: true);
            bool CommittedTo(string topic, int partition, long next)
            {
                // Live heap (after a collection): what the worker holds, not garbage awaiting the
                // next collection, whose size depends on when the GC last ran (a sample without
                // the collection read 58 MiB once and under 48 the other times on the same code).
                heapPeak = Math.Max(heapPeak, GC.GetTotalMemory(forceFullCollection: true));
                return worker.Metrics.CommittedOffsetOf(topic, partition) >= next;
            }

            // The oversized records go to their own partition, each between two good spans, one at a
            // time: with the mock's 5 MiB cap per partition, a 4.5 MiB record deletes the records
            // before it, and the next record deletes it, so each must be read before the next is sent.
            var lane = new List<(byte[] Value, int Kind)>();
            for (var i = 0; i <= TenMegabyteRecords; i++)
            {
                lane.Add((MalformedRecords.GoodSpan(1_000_000UL + (ulong)i, 1), -1));
                if (i < TenMegabyteRecords)
                {
                    lane.Add((tenMegabytes, kinds.Length - 1));
                }
            }

            foreach (var record in lane)
            {
                List<(byte[] Value, int Kind)> one = [record];
                var landed = topics.ProduceMany(topics.Spans, [record.Value], firstPartition: 2);
                Landed(topics.Spans, one, landed);
                await Wait.UntilAsync(() => CommittedTo(topics.Spans, 2, landed[0].Offset.Value + 1), () => $"the worker past {landed[0]} of the 10 MB lane; read {worker.Metrics.Records}, committed {worker.Metrics.CommittedOffsetOf(topics.Spans, 2)}");
            }

            var ends = new[] { (topics.Metrics, 0), (topics.Metrics, 1), (topics.Spans, 0), (topics.Spans, 1), (topics.Spans, 2) };
            var endOffsets = topics.EndOffsets(topics.Metrics, 2).Concat(topics.EndOffsets(topics.Spans, 3)).ToArray();
            await Wait.UntilAsync(
                () => ends.Select((e, i) => CommittedTo(e.Item1, e.Item2, endOffsets[i])).All(static done => done),
                () => $"all records committed ({string.Join(",", endOffsets)}); committed {string.Join(",", ends.Select(e => worker.Metrics.CommittedOffsetOf(e.Item1, e.Item2)))}, dead letters {worker.Metrics.DeadLetters}",
                TimeSpan.FromSeconds(45));

            // Bounded: the series under the cap (the rest evicted), and the managed heap well below
            // what holding the records would take (3 x 4.5 MiB plus ~5 MB for the 15,000 others)
            // plus the 200 detectors' state (4 KiB each) and the pipeline's buffers.
            Assert.Equal(MaxSeries, worker.Metrics.Series);
            Assert.True(worker.Metrics.SeriesEvicted >= 1_000 - MaxSeries, $"evicted {worker.Metrics.SeriesEvicted}");
            Assert.True(heapPeak - heapBefore < 48L << 20, $"managed heap grew by {(heapPeak - heapBefore) >> 20} MiB while processing");
        }

        Assert.Equal(BadRecords, expected.Values.Count(static k => k >= 0));
        var dead = topics.ReadAll(topics.DeadLetters, expected: BadRecords, settle: TimeSpan.FromMilliseconds(500), limit: TimeSpan.FromSeconds(40));
        var deadAt = new Dictionary<(string, int, long), (string Kind, string Reason, string Truncated)>();
        foreach (var d in dead)
        {
            string Header(string key) => Encoding.UTF8.GetString(d.Message.Headers.GetLastBytes(key));
            var source = (Header(StreamWorker.HeaderSourceTopic), int.Parse(Header(StreamWorker.HeaderSourcePartition), System.Globalization.CultureInfo.InvariantCulture), long.Parse(Header(StreamWorker.HeaderSourceOffset), System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(deadAt.TryAdd(source, (Header(StreamWorker.HeaderErrorKind), Header(StreamWorker.HeaderErrorReason), Header(StreamWorker.HeaderTruncated))), $"{source} dead-lettered twice");
        }

        // Exactly the bad records are in the dead-letter topic, each with a kind and a reason.
        var bad = expected.Where(static e => e.Value >= 0).ToDictionary(static e => e.Key, static e => e.Value);
        var missing = bad.Keys.Where(k => !deadAt.ContainsKey(k)).Select(k => kinds[bad[k]].Name).GroupBy(static n => n).Select(static g => $"{g.Key} x{g.Count()}").ToList();
        Assert.True(missing.Count == 0, "not dead-lettered: " + string.Join(", ", missing));
        var wrong = deadAt.Keys.Where(k => !bad.ContainsKey(k)).ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} good records dead-lettered, e.g. {(wrong.Count > 0 ? deadAt[wrong[0]].Reason : "")}");
        Assert.All(deadAt.Values, static d => Assert.False(string.IsNullOrWhiteSpace(d.Kind) || string.IsNullOrWhiteSpace(d.Reason)));
        Assert.Equal(TenMegabyteRecords, deadAt.Values.Count(static d => d.Kind == "Oversized" && d.Truncated == "true"));

        // Every good record processed: each good metric point (service, minute) and span id seen.
        Assert.Equal(GoodMetrics, counted.MetricPoints);
        Assert.Equal(GoodSpans + TenMegabyteRecords + 1, counted.SpanIds);
    }

    /// <summary>The production pipeline, counting the distinct good points and spans handed to it.</summary>
    private sealed class CountingProcessor : ITelemetryProcessor
    {
        private readonly Lock _gate = new();
        private readonly HashSet<(string Service, long Timestamp)> _points = [];
        private readonly HashSet<ulong> _spans = [];
        private PipelineProcessor? _inner;

        public int MetricPoints
        {
            get
            {
                lock (_gate)
                {
                    return _points.Count;
                }
            }
        }

        public int SpanIds
        {
            get
            {
                lock (_gate)
                {
                    return _spans.Count;
                }
            }
        }

        public long SeriesCount => _inner!.SeriesCount;

        public long EvictedSeries => _inner!.EvictedSeries;

        public long AnomalyCount => _inner!.AnomalyCount;

        public void Register(IServiceCollection services)
        {
            CoreServices.Register(services);
            services.AddSingleton<ITelemetryProcessor>(sp =>
            {
                _inner = new PipelineProcessor(sp.GetRequiredService<EventTimePipeline>());
                return this;
            });
        }

        public void Process(IReadOnlyList<MetricPoint> points, IReadOnlyList<SpanRecord> spans)
        {
            lock (_gate)
            {
                foreach (var p in points)
                {
                    _points.Add((p.Series.Service, p.TimestampMs));
                }

                foreach (var s in spans)
                {
                    _spans.Add(s.SpanId);
                }
            }

            _inner!.Process(points, spans);
        }

        public void DrainIncidents(List<IncidentMessage> into) => _inner!.DrainIncidents(into);

        public void SaveState(Stream destination) => _inner!.SaveState(destination);

        public void RestoreState(Stream source) => _inner!.RestoreState(source);
    }
}
