using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Aiops.Core;
using Aiops.Ingestion;
using Aiops.Ingestion.Otlp;
using Aiops.Pipeline;
using Aiops.Simulation;
using Aiops.Worker.Demo;
using Aiops.Worker.Hosting;
using Aiops.Worker.Kafka;
using Aiops.Worker.Telemetry;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Aiops.Worker.Cli;

/// <summary>
/// <c>aiops bench</c>: end-to-end throughput, from OTLP protobuf records on the embedded broker to
/// detector verdicts, in data points per second, with the decode share measured on its own over
/// the same records. A "data point" is one metric point or one span (each span is one observation
/// of the RED series it feeds).
/// </summary>
/// <remarks>
/// <para>Three stages over one workload (the shop simulator's telemetry encoded as the Collector's
/// Kafka exporter would: one metrics record per simulated minute, spans in records of
/// <see cref="SimulationProducer.SpansPerRecord"/>), each printed with wall time and the CPU time
/// of the measuring thread (<c>CLOCK_THREAD_CPUTIME_ID</c>), so a figure taken on a loaded machine
/// still says what one core does:</para>
/// <list type="number">
/// <item>decode only: the OTLP protobuf decoders, metrics and spans separately;</item>
/// <item>pipeline only: the decoded records through <see cref="EventTimePipeline"/> (aggregation,
/// detectors, correlation);</item>
/// <item>end to end: the worker host consuming from the embedded broker while a producer thread
/// writes the records in event-time order, never more than <c>--window</c> records ahead of the
/// consumer (a live worker's steady state). With <c>--backlog</c> the whole workload is produced
/// first (LZ4, span records over <see cref="BacklogSpanPartitions"/> partitions: the mock cluster
/// keeps 5 MiB per partition and drops the oldest batches beyond it) and the worker catches up from
/// the earliest offsets. A catch-up reads the small metrics records far ahead of the spans; without
/// event-time alignment (<c>--align false</c>) the watermark passes the spans' buckets and they are
/// dropped as late (session 1: 246,114 of 379,879 spans), with it (<see cref="Processing.EventTimeAligner"/>)
/// the worker hands records over in event-time order. The stage warns when the worker's work differs
/// from the pipeline-only stage's.</item>
/// </list>
/// </remarks>
internal static partial class BenchCommand
{
    /// <summary>The consumer's <c>fetch.wait.max.ms</c> in the end-to-end stage.</summary>
    private const int FetchWaitMs = 1;

    public static Command Create()
    {
        var minutes = new Option<int>("--minutes") { Description = "Simulated minutes of shop telemetry to produce.", DefaultValueFactory = static _ => 240 };
        var traces = new Option<double>("--traces-per-minute") { Description = "Sampled traces per simulated minute at peak.", DefaultValueFactory = static _ => 200 };
        var window = new Option<int>("--window") { Description = "End to end: records the producer may be ahead of the consumer.", DefaultValueFactory = static _ => 64 };
        var stages = new Option<string>("--stages") { Description = "Comma-separated stages to run: decode, pipeline, kafka.", DefaultValueFactory = static _ => "decode,pipeline,kafka" };
        var backlog = new Option<bool>("--backlog") { Description = "End to end: produce the whole workload before the worker starts (a catch-up on a backlog) instead of pacing the producer." };
        var align = new Option<bool>("--align") { Description = "End to end: the worker's Kafka:AlignEventTime (event-time alignment across partitions).", DefaultValueFactory = static _ => true };
        var command = new Command("bench", "Measure end-to-end throughput (embedded broker → decode → detectors) and the decode share.") { minutes, traces, window, stages, backlog, align };
        command.SetAction((parse, cancellationToken) => RunAsync(
            new Settings(parse.GetValue(minutes), parse.GetValue(traces), parse.GetValue(window), parse.GetValue(stages) ?? string.Empty, new EndToEndMode(parse.GetValue(backlog), parse.GetValue(align))),
            cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(Settings settings, CancellationToken cancellationToken)
    {
        if (settings.Minutes <= 0 || settings.Window <= 0)
        {
            await Console.Error.WriteLineAsync("--minutes and --window must be positive.").ConfigureAwait(false);
            return 2;
        }

        var workload = Workload.Build(settings.Minutes, settings.TracesPerMinute);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"workload: {settings.Minutes} simulated minutes, {workload.Records.Count:N0} OTLP protobuf records ({workload.Bytes / 1e6:0.0} MB), {workload.Points:N0} metric points + {workload.Spans:N0} spans = {workload.Items:N0} data points"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"load average at start: {LoadAverage()}; {(ThreadCpuTime.IsSupported ? "CPU = CPU time of the measuring thread" : "thread CPU time not available on this OS: CPU = wall")}"));

        var stages = settings.Stages.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var decodeCpuPerItem = double.NaN;
        if (stages.Contains("decode", StringComparer.OrdinalIgnoreCase) || stages.Contains("kafka", StringComparer.OrdinalIgnoreCase))
        {
            decodeCpuPerItem = MeasureDecode(workload);
        }

        PipelineCounters? reference = null;
        if (stages.Contains("pipeline", StringComparer.OrdinalIgnoreCase))
        {
            reference = MeasurePipeline(workload);
        }

        if (stages.Contains("kafka", StringComparer.OrdinalIgnoreCase))
        {
            return await MeasureEndToEndAsync(workload, settings.Window, settings.Mode, decodeCpuPerItem, reference, cancellationToken).ConfigureAwait(false);
        }

        return 0;
    }

    /// <summary>Decode only, one thread, best of three passes per signal; returns the decode CPU seconds per data point.</summary>
    private static double MeasureDecode(Workload workload)
    {
        var metrics = Best(workload, spans: false);
        var spans = Best(workload, spans: true);
        Print("decode metrics", workload.Points, metrics, $"{metrics.AllocatedBytes / Math.Max(1.0, workload.Points):0.0} B/point");
        Print("decode spans", workload.Spans, spans, $"{spans.AllocatedBytes / Math.Max(1.0, workload.Spans):0.0} B/span (the SpanRecord's strings are interned, its attribute array is per span)");
        var both = new Timing(metrics.Wall + spans.Wall, metrics.Cpu + spans.Cpu, metrics.AllocatedBytes + spans.AllocatedBytes);
        Print("decode (both)", workload.Items, both, string.Empty);
        return both.Cpu.TotalSeconds / workload.Items;

        static Timing Best(Workload workload, bool spans)
        {
            Timing best = new(TimeSpan.MaxValue, TimeSpan.MaxValue, 0);
            for (var pass = 0; pass < 3; pass++)
            {
                // Fresh decoders each pass: the metrics decoder keeps cumulative state per series.
                var metricsDecoder = new OtlpMetricsDecoder();
                var traceDecoder = new OtlpTraceDecoder();
                var batch = new DecodeBatch();
                var timing = Timing.Start();
                foreach (var (isSpan, bytes) in workload.Records)
                {
                    if (isSpan != spans)
                    {
                        continue;
                    }

                    batch.Clear();
                    if (isSpan)
                    {
                        traceDecoder.Decode(bytes, batch);
                    }
                    else
                    {
                        metricsDecoder.Decode(bytes, batch);
                    }
                }

                var t = timing.Stop();
                best = t.Cpu < best.Cpu ? t : best;
            }

            return best;
        }
    }

    /// <summary>
    /// The decoded records through a fresh pipeline in record order (spans then points of each
    /// record, as the worker feeds them), after a warm-up pipeline saw the first tenth (JIT).
    /// </summary>
    private static PipelineCounters MeasurePipeline(Workload workload)
    {
        var decoded = workload.Decode();
        var warmUp = new EventTimePipeline();
        Feed(warmUp, decoded, decoded.Count / 10);
        var pipeline = new EventTimePipeline();
        var timing = Timing.Start();
        Feed(pipeline, decoded, decoded.Count);
        var c = pipeline.Counters; // before the flush: the worker does not flush at the end of the input
        var t = timing.Stop();
        PrintSnapshot(pipeline);
        pipeline.Flush();
        Print("pipeline only", workload.Items, t, string.Create(CultureInfo.InvariantCulture, $"{c.Points:N0} detector updates over {c.Series:N0} series, {c.Anomalies:N0} anomalies, {c.Incidents:N0} incidents, {pipeline.TopologyCounters.Late:N0} late spans"));
        return c;
    }

    /// <summary>
    /// The checkpoint at the end of the input (before the flush, as a worker saves it): its size,
    /// the share of it that is open state (everything after the registry), and the time of one save
    /// (the second: the first pays the JIT).
    /// </summary>
    private static void PrintSnapshot(EventTimePipeline pipeline)
    {
        using var registry = new MemoryStream();
        pipeline.Detectors.Save(registry);
        using var snapshot = new MemoryStream();
        pipeline.WriteSnapshot(snapshot);
        snapshot.SetLength(0);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        pipeline.WriteSnapshot(snapshot);
        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"snapshot at the end of the input: {snapshot.Length:N0} bytes (registry {registry.Length:N0}, open state of the ingest and merge stages and the rest {snapshot.Length - registry.Length:N0}), saved in {elapsed.TotalMilliseconds:0.0} ms"));
    }

    /// <summary>Feeds the first <paramref name="count"/> decoded records to <paramref name="pipeline"/> as the worker does: each record's spans, then its points.</summary>
    internal static void Feed(EventTimePipeline pipeline, List<(MetricPoint[] Points, SpanRecord[] Spans)> decoded, int count)
    {
        for (var r = 0; r < count; r++)
        {
            var (points, spans) = decoded[r];
            for (var i = 0; i < spans.Length; i++)
            {
                pipeline.AddSpan(spans[i]);
            }

            for (var i = 0; i < points.Length; i++)
            {
                pipeline.AddMetric(points[i]);
            }
        }
    }

    private static async Task<int> MeasureEndToEndAsync(Workload workload, int window, EndToEndMode mode, double decodeCpuPerItem, PipelineCounters? reference, CancellationToken cancellationToken)
    {
        Console.WriteLine(mode.Backlog
            ? string.Create(CultureInfo.InvariantCulture, $"end to end: backlog (every record produced first, spans over {BacklogSpanPartitions} partitions), event-time alignment {(mode.Align ? "on" : "off")}")
            : string.Create(CultureInfo.InvariantCulture, $"end to end: paced producer (window {window}), event-time alignment {(mode.Align ? "on" : "off")}"));
        if (await RunEndToEndAsync(workload, window, mode, cancellationToken).ConfigureAwait(false) is not { } run)
        {
            return 1;
        }

        var (first, steady, end, c) = (run.First, run.Steady, run.End, run.Counters);
        var items = end.Items;
        var elapsed = end.Wall - first.Wall;
        Print("end to end (Kafka)", items, new Timing(elapsed, end.Cpu - first.Cpu, 0), string.Create(CultureInfo.InvariantCulture, $"first record read to last span processed; CPU = whole process incl. producer and mock broker; {run.Records:N0} records, {run.DeadLetters} dead letters, {c.Points:N0} detector updates, {run.LateSpans:N0} late spans"));
        Print("  steady state", end.Items - steady.Items, new Timing(end.Wall - steady.Wall, end.Cpu - steady.Cpu, 0), "the last 3/4 of the records (JIT tiering and detector warm-up behind)");
        var threads = ThreadTimes.Since(steady.Threads);
        PrintThreads(threads, end.Cpu - steady.Cpu, end.Items - steady.Items);
        if (reference is { } r && (r.Points != c.Points || r.Spans != c.Spans))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"warning: the worker did different work from the pipeline-only stage ({c.Spans:N0} vs {r.Spans:N0} spans, {c.Points:N0} vs {r.Points:N0} detector updates)."));
        }

        if (!double.IsNaN(decodeCpuPerItem) && elapsed > TimeSpan.Zero)
        {
            var busiest = threads.Count > 0 ? threads[0].Cpu.TotalSeconds : double.NaN;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"decode share of end to end: {decodeCpuPerItem * items / elapsed.TotalSeconds * 100:0.0} % of the wall time ({decodeCpuPerItem * items * 1000:0} ms of decode CPU in {elapsed.TotalMilliseconds:0} ms); steady state: {decodeCpuPerItem * (end.Items - steady.Items) / busiest * 100:0.0} % of the busiest thread's CPU"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"load average at end: {LoadAverage()}"));
        return 0;
    }

    /// <summary>
    /// The end-to-end stage: an embedded broker, the worker host, and the paced producer (see the
    /// remarks); null (with the reason printed) when the worker stopped making progress for 30 s.
    /// </summary>
    internal static Task<EndToEndRun?> RunEndToEndAsync(Workload workload, int window, CancellationToken cancellationToken) =>
        RunEndToEndAsync(workload, window, new EndToEndMode(Backlog: false, Align: true), cancellationToken);

    /// <summary>
    /// As above; with <see cref="EndToEndMode.Backlog"/> every record is produced (LZ4, span records
    /// spread over <see cref="BacklogSpanPartitions"/> partitions) before the worker starts, and the
    /// worker catches up on it from the earliest offsets: the case event-time alignment is for.
    /// </summary>
    internal static async Task<EndToEndRun?> RunEndToEndAsync(Workload workload, int window, EndToEndMode mode, CancellationToken cancellationToken)
    {
        using var broker = EmbeddedBroker.Start();
        var spanPartitions = mode.Backlog ? BacklogSpanPartitions : 1;
        await broker.CreateTopicsAsync([("otlp_metrics", 1), ("otlp_spans", spanPartitions), ("aiops.incidents", 1), ("aiops.deadletter", 1)]).ConfigureAwait(false);
        if (mode.Backlog && !ProduceBacklog(broker, workload, spanPartitions))
        {
            return null;
        }

        var overrides = new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = broker.BootstrapServers,
            ["Kafka:GroupId"] = "aiops-bench",
            ["Checkpoint:Enabled"] = "false",
            ["Metrics:Enabled"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
            // The producer keeps the broker nearly drained (see the remarks), so a fetch often finds
            // nothing new: librdkafka's default 500 ms wait would then measure the wait, not the work.
            ["Kafka:ClientProperties:fetch.wait.max.ms"] = FetchWaitMs.ToString(CultureInfo.InvariantCulture),
            ["Kafka:AlignEventTime"] = mode.Align ? "true" : "false",
        };
        using var host = WorkerHost.CreateBuilder([], overrides, CoreServices.Register, LogLevel.Warning).Build();
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        var metrics = host.Services.GetRequiredService<WorkerMetrics>();
        var assignDeadline = Stopwatch.StartNew();
        while (metrics.AssignedPartitions < 1 + spanPartitions && assignDeadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }

        using var producer = new SimulationProducer(broker.BootstrapServers, "otlp_metrics", "otlp_spans", lingerMs: 0);
        var total = workload.Records.Count;
        var produce = Task.Factory.StartNew(
            () =>
            {
                var previousMetrics = -1;
                for (var i = mode.Backlog ? total : 0; i < total; i++)
                {
                    // A spans record may be `window` records ahead of the consumer. The metrics record
                    // of minute m (stamped at its start) closes the RED buckets of minute m − 2 and
                    // earlier (bucket 60 s + allowed lateness 30 s), so it waits until every record up
                    // to the previous metrics record was read: spans come in order from one partition,
                    // so what is still unread can only be spans of minute m − 1.
                    var (isSpan, bytes) = workload.Records[i];
                    var ahead = isSpan ? window : i - previousMetrics - 1;
                    while (i - metrics.Records > ahead && !cancellationToken.IsCancellationRequested)
                    {
                        Thread.Sleep(1);
                    }

                    producer.Produce(isSpan ? "otlp_spans" : "otlp_metrics", bytes);
                    previousMetrics = isSpan ? previousMetrics : i;
                }

                producer.Flush();
            },
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        // Done when the pipeline has taken the last span (the last record of the workload is a span record).
        var pipeline = host.Services.GetRequiredService<EventTimePipeline>();
        var wall = Stopwatch.StartNew();
        Mark? first = null, steady = null;
        var lastProgress = TimeSpan.Zero;
        var lastRecords = 0L;
        while (metrics.Records < total || pipeline.Counters.Spans < workload.Spans)
        {
            var records = metrics.Records;
            if (first is null && records > 0)
            {
                first = Mark.Take(wall, metrics);
            }

            if (steady is null && records >= total / 4)
            {
                steady = Mark.Take(wall, metrics);
            }

            if (records != lastRecords)
            {
                (lastRecords, lastProgress) = (records, wall.Elapsed);
            }
            else if (wall.Elapsed - lastProgress > TimeSpan.FromSeconds(30) || produce.IsFaulted)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"end to end: no progress for 30 s at {records:N0} of {total:N0} records consumed{(produce.Exception is { } ex ? $" (producer: {ex.GetBaseException().Message})" : string.Empty)}; aborted."));
                await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
                return null;
            }

            await Task.Delay(2, cancellationToken).ConfigureAwait(false);
        }

        var end = Mark.Take(wall, metrics);
        await produce.ConfigureAwait(false);
        await host.StopAsync(cancellationToken).ConfigureAwait(false);
        first ??= end;
        return new EndToEndRun(first, steady ?? first, end, pipeline.Counters, pipeline.TopologyCounters.Late, metrics.Records, metrics.DeadLetters);
    }

    /// <summary>Where the process's CPU went during the end-to-end stage, per thread (the consume loop is the busiest managed one).</summary>
    private static void PrintThreads(List<(string Name, TimeSpan Cpu)> threads, TimeSpan total, long items)
    {
        if (threads.Count == 0)
        {
            return;
        }

        var text = new System.Text.StringBuilder("  CPU by thread:");
        for (var i = 0; i < Math.Min(6, threads.Count); i++)
        {
            var (name, cpu) = threads[i];
            text.Append(CultureInfo.InvariantCulture, $" {name} {cpu.TotalMilliseconds:0} ms ({cpu / total * 100:0} %),");
        }

        var (busiest, busiestCpu) = threads[0];
        text.Append(CultureInfo.InvariantCulture, $" others {(total - threads.Take(6).Aggregate(TimeSpan.Zero, static (a, t) => a + t.Cpu)).TotalMilliseconds:0} ms");
        Console.WriteLine(text.ToString());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  busiest thread ({busiest}): {items / busiestCpu.TotalSeconds:N0} points per CPU-second of it"));
    }

    private static void Print(string stage, long items, Timing t, string detail)
    {
        var wall = items / t.Wall.TotalSeconds;
        var cpu = items / t.Cpu.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{stage + ":",-20}{wall,12:N0} points/s wall ({t.Wall.TotalMilliseconds,6:0} ms), {cpu,12:N0} points/CPU-s ({t.Cpu.TotalMilliseconds,6:0} ms){(detail.Length > 0 ? "; " + detail : string.Empty)}"));
    }

    /// <summary>The 1-, 5- and 15-minute load averages (Linux), or "n/a".</summary>
    private static string LoadAverage()
    {
        const string Path = "/proc/loadavg";
        if (!File.Exists(Path))
        {
            return "n/a";
        }

        var parts = File.ReadAllText(Path).Split(' ');
        return parts.Length >= 3 ? $"{parts[0]} {parts[1]} {parts[2]}" : "n/a";
    }

    /// <summary>What the end-to-end stage measured: progress marks at the first record, after a quarter of them and at the end; the worker pipeline's counters.</summary>
    internal sealed record EndToEndRun(Mark First, Mark Steady, Mark End, PipelineCounters Counters, long LateSpans, long Records, long DeadLetters);

    /// <summary>Progress of the end-to-end stage at one instant: wall, process CPU, per-thread CPU, data points decoded.</summary>
    internal sealed record Mark(TimeSpan Wall, TimeSpan Cpu, Dictionary<int, (string Name, long Ticks)> Threads, long Items)
    {
        public static Mark Take(Stopwatch wall, WorkerMetrics metrics) =>
            new(wall.Elapsed, Process.GetCurrentProcess().TotalProcessorTime, ThreadTimes.Read(), metrics.Points + metrics.Spans);
    }

    private sealed record Settings(int Minutes, double TracesPerMinute, int Window, string Stages, EndToEndMode Mode);

    /// <summary>How the end-to-end stage feeds the worker: paced or as a backlog, with or without event-time alignment.</summary>
    internal readonly record struct EndToEndMode(bool Backlog, bool Align);

    /// <summary>
    /// Span partitions of a backlog run. The mock cluster keeps 5 MiB per partition and deletes
    /// older batches beyond it; the default 240 minutes are ~2,000 span records of ~20-40 KB, a few
    /// MiB after LZ4, so four partitions keep each well under the limit (checked after producing).
    /// </summary>
    internal const int BacklogSpanPartitions = 4;

    /// <summary>
    /// Produces the whole workload (LZ4, idempotent) before the worker starts: metrics to the one
    /// metrics partition, span records round robin over <paramref name="spanPartitions"/>. False
    /// (with the reason printed) when a record failed or the mock cluster pruned a partition.
    /// </summary>
    private static bool ProduceBacklog(EmbeddedBroker broker, Workload workload, int spanPartitions)
    {
        var config = new ProducerConfig { BootstrapServers = broker.BootstrapServers, EnableIdempotence = true, LingerMs = 5, CompressionType = CompressionType.Lz4 };
        using var producer = new ProducerBuilder<byte[]?, byte[]>(config).SetLogHandler(static (_, _) => { }).Build();
        var failed = 0;
        var spans = 0;
        foreach (var (isSpan, bytes) in workload.Records)
        {
            var partition = isSpan ? new TopicPartition("otlp_spans", spans++ % spanPartitions) : new TopicPartition("otlp_metrics", 0);
            while (true)
            {
                try
                {
                    producer.Produce(partition, new Message<byte[]?, byte[]> { Value = bytes }, report =>
                    {
                        if (report.Error.IsError)
                        {
                            Interlocked.Increment(ref failed);
                        }
                    });
                    break;
                }
                catch (ProduceException<byte[]?, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(20));
                }
            }
        }

        if (producer.Flush(TimeSpan.FromSeconds(120)) > 0 || failed > 0)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"end to end: {failed} backlog records not delivered; aborted."));
            return false;
        }

        using var probe = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = broker.BootstrapServers, GroupId = "aiops-bench-probe" }).Build();
        for (var p = -1; p < spanPartitions; p++)
        {
            var tp = p < 0 ? new TopicPartition("otlp_metrics", 0) : new TopicPartition("otlp_spans", p);
            var low = probe.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).Low.Value;
            if (low != 0)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"end to end: the mock cluster pruned {tp} below offset {low} (5 MiB per partition); use fewer --minutes. Aborted."));
                return false;
            }
        }

        return true;
    }

    /// <summary>The encoded records, in event-time order (each minute's metrics record, then its span records).</summary>
    internal sealed class Workload
    {
        private Workload(List<(bool IsSpan, byte[] Bytes)> records, long points, long spans)
        {
            Records = records;
            Points = points;
            Spans = spans;
            foreach (var (_, bytes) in records)
            {
                Bytes += bytes.Length;
            }
        }

        public List<(bool IsSpan, byte[] Bytes)> Records { get; }

        public long Points { get; }

        public long Spans { get; }

        public long Items => Points + Spans;

        public long Bytes { get; }

        public static Workload Build(int minutes, double tracesPerMinute) =>
            Encode(new ShopSimulator(new ScenarioOptions { Seed = 11, DurationMs = minutes * 60_000L, TracesPerMinute = tracesPerMinute }));

        /// <summary>Encodes every batch of <paramref name="simulator"/> as <see cref="SimulationProducer"/> produces it.</summary>
        public static Workload Encode(ShopSimulator simulator)
        {
            ArgumentNullException.ThrowIfNull(simulator);
            var records = new List<(bool, byte[])>();
            var chunk = new List<SpanRecord>(SimulationProducer.SpansPerRecord);
            long points = 0, spans = 0;
            foreach (var batch in simulator.Batches())
            {
                if (batch.Metrics.Count > 0)
                {
                    records.Add((false, OtlpProtobufEncoder.EncodeMetricPoints(batch.Metrics)));
                    points += batch.Metrics.Count;
                }

                for (var i = 0; i < batch.Spans.Count; i += SimulationProducer.SpansPerRecord)
                {
                    chunk.Clear();
                    for (var j = i; j < Math.Min(i + SimulationProducer.SpansPerRecord, batch.Spans.Count); j++)
                    {
                        chunk.Add(batch.Spans[j]);
                    }

                    records.Add((true, OtlpProtobufEncoder.EncodeSpans(chunk)));
                    spans += chunk.Count;
                }
            }

            return new Workload(records, points, spans);
        }

        /// <summary>Every record decoded, in order (outside any measurement).</summary>
        public List<(MetricPoint[] Points, SpanRecord[] Spans)> Decode()
        {
            var metricsDecoder = new OtlpMetricsDecoder();
            var traceDecoder = new OtlpTraceDecoder();
            var batch = new DecodeBatch();
            var decoded = new List<(MetricPoint[], SpanRecord[])>(Records.Count);
            foreach (var (isSpan, bytes) in Records)
            {
                batch.Clear();
                if (isSpan)
                {
                    traceDecoder.Decode(bytes, batch);
                }
                else
                {
                    metricsDecoder.Decode(bytes, batch);
                }

                decoded.Add(([.. batch.Metrics], [.. batch.Spans]));
            }

            return decoded;
        }
    }

    /// <summary>Wall time, CPU time and allocated bytes of a measured section on the current thread.</summary>
    private readonly record struct Timing(TimeSpan Wall, TimeSpan Cpu, long AllocatedBytes)
    {
        public static Running Start() => new(Stopwatch.GetTimestamp(), ThreadCpuTime.Now(), GC.GetAllocatedBytesForCurrentThread());

        public readonly record struct Running(long WallStart, TimeSpan CpuStart, long AllocatedStart)
        {
            public Timing Stop()
            {
                var wall = Stopwatch.GetElapsedTime(WallStart);
                var cpu = ThreadCpuTime.IsSupported ? ThreadCpuTime.Now() - CpuStart : wall;
                return new Timing(wall, cpu, GC.GetAllocatedBytesForCurrentThread() - AllocatedStart);
            }
        }
    }

    /// <summary>Per-thread CPU time of this process from <c>/proc/self/task/*/stat</c> (utime + stime, clock ticks of 10 ms); empty elsewhere.</summary>
    private static class ThreadTimes
    {
        private const double TicksPerSecond = 100;

        public static Dictionary<int, (string Name, long Ticks)> Read()
        {
            var result = new Dictionary<int, (string, long)>();
            const string Tasks = "/proc/self/task";
            if (!Directory.Exists(Tasks))
            {
                return result;
            }

            foreach (var dir in Directory.EnumerateDirectories(Tasks))
            {
                try
                {
                    var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    var name = File.ReadAllText(Path.Combine(dir, "comm")).Trim();
                    // Fields after the parenthesised command: state is field 3, utime 14, stime 15.
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                    result[int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture)] = (name, ticks);
                }
                catch (IOException)
                {
                    // The thread ended between the listing and the read.
                }
            }

            return result;
        }

        /// <summary>CPU per thread since <paramref name="start"/>, busiest first.</summary>
        public static List<(string Name, TimeSpan Cpu)> Since(Dictionary<int, (string Name, long Ticks)> start)
        {
            var list = new List<(string, TimeSpan)>();
            foreach (var (tid, (name, ticks)) in Read())
            {
                var before = start.TryGetValue(tid, out var s) ? s.Ticks : 0;
                if (ticks > before)
                {
                    list.Add(($"{name}#{tid}", TimeSpan.FromSeconds((ticks - before) / TicksPerSecond)));
                }
            }

            list.Sort(static (a, b) => b.Item2.CompareTo(a.Item2));
            return list;
        }
    }

    /// <summary>
    /// CPU time of the calling thread (<c>clock_gettime(CLOCK_THREAD_CPUTIME_ID)</c>, nanosecond
    /// resolution on Linux): on a machine shared with other builds, wall time measures the
    /// neighbours too, this measures only the work.
    /// </summary>
    private static partial class ThreadCpuTime
    {
        /// <summary>CLOCK_THREAD_CPUTIME_ID in Linux's &lt;time.h&gt;.</summary>
        private const int ClockThreadCpuTimeId = 3;

        public static bool IsSupported { get; } = OperatingSystem.IsLinux() && Environment.Is64BitProcess;

        public static TimeSpan Now()
        {
            if (!IsSupported || ClockGetTime(ClockThreadCpuTimeId, out var ts) != 0)
            {
                return TimeSpan.Zero;
            }

            return TimeSpan.FromTicks((ts.Seconds * 1_000_000_000 + ts.Nanoseconds) / 100);
        }

        [LibraryImport("libc", EntryPoint = "clock_gettime")]
        private static partial int ClockGetTime(int clockId, out TimeSpec time);

        [StructLayout(LayoutKind.Sequential)]
        private struct TimeSpec
        {
            public long Seconds;
            public long Nanoseconds;
        }
    }
}
