using System.Diagnostics;
using System.Globalization;
using Aiops.Core;
using Aiops.Ingestion.Otlp;
using Aiops.Pipeline;
using Aiops.Worker.Hosting;
using Aiops.Worker.Kafka;
using Aiops.Worker.Options;
using Aiops.Worker.Telemetry;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Aiops.Worker.Scale;

/// <summary>Settings of one <c>scale-bench</c> run.</summary>
/// <param name="Instances">Worker instance counts to measure, e.g. 1, 2, 3.</param>
/// <param name="Partitions">Partitions of the metrics topic (at least the largest instance count).</param>
/// <param name="RecordsPerPartition">OTLP records per partition.</param>
/// <param name="PointsPerRecord">Gauge points per record (each of its own series; a partition's records share their series).</param>
/// <param name="SeriesCounts">Distinct series pushed through one pipeline for the memory table, e.g. 100,000 and 1,000,000.</param>
/// <param name="MaxSeries">The series cap of those pipelines (<c>Limits:MaxSeries</c>).</param>
internal sealed record ScaleBenchSettings(IReadOnlyList<int> Instances, int Partitions, int RecordsPerPartition, int PointsPerRecord, IReadOnlyList<int> SeriesCounts, int MaxSeries);

/// <summary>One throughput row.</summary>
internal sealed record ThroughputRow(int Instances, long Records, long Points, double Seconds)
{
    public double PointsPerSecond => Points / Seconds;
}

/// <summary>One memory row.</summary>
internal sealed record MemoryRow(int SeriesPushed, long SeriesKept, long SeriesEvicted, long ManagedBytes)
{
    public double BytesPerKeptSeries => SeriesKept == 0 ? 0 : (double)ManagedBytes / SeriesKept;
}

/// <summary>
/// <c>aiops scale-bench</c>: throughput of 1, 2, 3 … worker instances in one consumer group on the
/// embedded broker, and the managed memory of one pipeline after 100k / 1M distinct series through
/// the series cap. Every figure comes from one run on this machine; compare them with each other
/// (the ratio between instance counts), not with another machine's.
/// </summary>
/// <remarks>
/// <para>Throughput: the instances (in-process hosts with the production decoders and pipeline,
/// each its own consume thread) join first; then the records are produced and the clock runs until
/// every partition is committed to its end. The instances share this process's cores with each other
/// and with the producer, so on a 2-core machine the gain stops at about two; past one machine, each
/// instance has its own cores and the group splits the partitions the same way.</para>
/// <para>The data stays under the mock cluster's 5 MiB per partition (librdkafka's mock deletes the
/// oldest batches beyond it), about 600 records of 100 points; larger runs need a real cluster.</para>
/// </remarks>
internal static class ScaleBench
{
    private const long T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

    /// <summary>Runs every instance count on one embedded broker.</summary>
    public static async Task<List<ThroughputRow>> MeasureThroughputAsync(ScaleBenchSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        using var broker = EmbeddedBroker.Start();
        var records = Workload(settings);
        var rows = new List<ThroughputRow>();
        foreach (var instances in settings.Instances)
        {
            rows.Add(await MeasureAsync(broker, settings, records, instances, cancellationToken).ConfigureAwait(false));
        }

        return rows;
    }

    /// <summary>Pushes each series count through a fresh pipeline capped at <see cref="ScaleBenchSettings.MaxSeries"/> and measures its managed heap.</summary>
    public static List<MemoryRow> MeasureMemory(ScaleBenchSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var rows = new List<MemoryRow>();
        foreach (var count in settings.SeriesCounts)
        {
            var before = GC.GetTotalMemory(forceFullCollection: true);
            var pipeline = new EventTimePipeline(CoreServices.PipelineOptionsFor(new LimitsOptions { MaxSeries = settings.MaxSeries }));
            for (var i = 0; i < count; i++)
            {
                pipeline.AddMetric(new MetricPoint(new SeriesKey("svc-" + (i % 1_000).ToString(CultureInfo.InvariantCulture), "cpu", "pod=" + i.ToString(CultureInfo.InvariantCulture)), MetricKind.Saturation, T0 + (i / 1_000), 0.5));
            }

            var after = GC.GetTotalMemory(forceFullCollection: true);
            rows.Add(new MemoryRow(count, pipeline.Detectors.Count, pipeline.Detectors.EvictedSeries, after - before));
            GC.KeepAlive(pipeline);
        }

        return rows;
    }

    /// <summary>Prints both tables.</summary>
    public static void Print(TextWriter output, IReadOnlyList<ThroughputRow> throughput, IReadOnlyList<MemoryRow> memory, int maxSeries)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(throughput);
        ArgumentNullException.ThrowIfNull(memory);
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine("| instances | records | points | seconds | points/s | vs 1 instance |");
        output.WriteLine("| --- | --- | --- | --- | --- | --- |");
        var single = throughput.FirstOrDefault(static r => r.Instances == 1)?.PointsPerSecond;
        foreach (var r in throughput)
        {
            var ratio = single is > 0 ? (r.PointsPerSecond / single.Value).ToString("0.00", inv) : "-";
            output.WriteLine(string.Create(inv, $"| {r.Instances} | {r.Records:N0} | {r.Points:N0} | {r.Seconds:0.00} | {r.PointsPerSecond:N0} | {ratio} |"));
        }

        output.WriteLine();
        output.WriteLine(string.Create(inv, $"| series pushed | kept (Limits:MaxSeries={maxSeries:N0}) | evicted | managed MiB | bytes per kept series |"));
        output.WriteLine("| --- | --- | --- | --- | --- |");
        foreach (var r in memory)
        {
            output.WriteLine(string.Create(inv, $"| {r.SeriesPushed:N0} | {r.SeriesKept:N0} | {r.SeriesEvicted:N0} | {r.ManagedBytes / 1048576.0:N1} | {r.BytesPerKeptSeries:N0} |"));
        }
    }

    /// <summary>The records, per partition: partition p carries series svc-p/cpu{k=0..PointsPerRecord-1}, one point each per record (one simulated minute).</summary>
    private static List<byte[]>[] Workload(ScaleBenchSettings settings)
    {
        var partitions = new List<byte[]>[settings.Partitions];
        var points = new List<MetricPoint>(settings.PointsPerRecord);
        for (var p = 0; p < settings.Partitions; p++)
        {
            partitions[p] = new List<byte[]>(settings.RecordsPerPartition);
            var service = "svc-" + p.ToString(CultureInfo.InvariantCulture);
            for (var r = 0; r < settings.RecordsPerPartition; r++)
            {
                points.Clear();
                for (var k = 0; k < settings.PointsPerRecord; k++)
                {
                    var wave = Math.Sin(2 * Math.PI * r / 60);
                    points.Add(new MetricPoint(new SeriesKey(service, "cpu", "k=" + k.ToString(CultureInfo.InvariantCulture)), MetricKind.Saturation, T0 + (r * 60_000L), 50 + (10 * wave) + ((k * 7 + r * 13) % 5)));
                }

                partitions[p].Add(OtlpProtobufEncoder.EncodeMetricPoints(points));
            }
        }

        return partitions;
    }

    private static async Task<ThroughputRow> MeasureAsync(EmbeddedBroker broker, ScaleBenchSettings settings, List<byte[]>[] records, int instances, CancellationToken cancellationToken)
    {
        var run = "scale-" + instances.ToString(CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..8];
        var metrics = run + "-metrics";
        var spans = run + "-spans";
        await broker.CreateTopicsAsync([(metrics, settings.Partitions), (spans, 1), (run + "-incidents", 1), (run + "-dlq", 1)]).ConfigureAwait(false);
        var overrides = new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = broker.BootstrapServers,
            ["Kafka:GroupId"] = run,
            ["Kafka:MetricsTopic"] = metrics,
            ["Kafka:SpansTopic"] = spans,
            ["Kafka:IncidentsTopic"] = run + "-incidents",
            ["Kafka:DeadLetterTopic"] = run + "-dlq",
            ["Checkpoint:Enabled"] = "false",
            ["Metrics:Enabled"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Kafka:ClientProperties:session.timeout.ms"] = "6000",
            ["Kafka:ClientProperties:heartbeat.interval.ms"] = "500",
        };

        var hosts = new List<IHost>();
        try
        {
            for (var i = 0; i < instances; i++)
            {
                var host = WorkerHost.CreateBuilder([], overrides, CoreServices.Register, LogLevel.Warning).Build();
                await host.StartAsync(cancellationToken).ConfigureAwait(false);
                hosts.Add(host);
            }

            var workers = hosts.Select(static h => h.Services.GetRequiredService<WorkerMetrics>()).ToList();
            var assigned = settings.Partitions + 1;
            await UntilAsync(() => workers.Sum(static m => m.AssignedPartitions) == assigned && (instances > assigned || workers.All(static m => m.AssignedPartitions > 0)), TimeSpan.FromSeconds(60), "every instance to get partitions", cancellationToken).ConfigureAwait(false);

            var clock = Stopwatch.StartNew();
            var ends = Produce(broker, metrics, records);
            await UntilAsync(
                () =>
                {
                    for (var p = 0; p < ends.Length; p++)
                    {
                        if (workers.Max(m => m.CommittedOffsetOf(metrics, p)) < ends[p])
                        {
                            return false;
                        }
                    }

                    return true;
                },
                TimeSpan.FromMinutes(10),
                "every record committed",
                cancellationToken).ConfigureAwait(false);
            clock.Stop();
            var total = ends.Sum();
            return new ThroughputRow(instances, total, total * settings.PointsPerRecord, clock.Elapsed.TotalSeconds);
        }
        finally
        {
            foreach (var host in hosts)
            {
                await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
                host.Dispose();
            }
        }
    }

    private static long[] Produce(EmbeddedBroker broker, string topic, List<byte[]>[] records)
    {
        var config = new ProducerConfig { BootstrapServers = broker.BootstrapServers, LingerMs = 5, EnableIdempotence = true };
        using var producer = new ProducerBuilder<Null, byte[]>(config).SetLogHandler(static (_, _) => { }).Build();
        var ends = new long[records.Length];
        var longest = records.Max(static r => r.Count);
        for (var r = 0; r < longest; r++)
        {
            for (var p = 0; p < records.Length; p++)
            {
                if (r < records[p].Count)
                {
                    producer.Produce(new TopicPartition(topic, p), new Message<Null, byte[]> { Value = records[p][r] });
                    ends[p]++;
                }
            }
        }

        if (producer.Flush(TimeSpan.FromSeconds(60)) > 0)
        {
            throw new InvalidOperationException("The scale benchmark's records were not all acknowledged within 60 s.");
        }

        return ends;
    }

    private static async Task UntilAsync(Func<bool> condition, TimeSpan limit, string what, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > limit)
            {
                throw new TimeoutException($"Scale benchmark: timed out after {limit.TotalSeconds} s waiting for {what}.");
            }

            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }
}
