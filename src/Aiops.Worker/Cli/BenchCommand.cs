using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Aiops.Ingestion;
using Aiops.Ingestion.Otlp;
using Aiops.Pipeline;
using Aiops.Simulation;
using Aiops.Worker.Demo;
using Aiops.Worker.Hosting;
using Aiops.Worker.Kafka;
using Aiops.Worker.Telemetry;
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
internal static class BenchCommand
{
    public static Command Create()
    {
        var minutes = new Option<int>("--minutes") { Description = "Simulated minutes of shop telemetry to produce.", DefaultValueFactory = static _ => 240 };
        var traces = new Option<double>("--traces-per-minute") { Description = "Sampled traces per simulated minute at peak.", DefaultValueFactory = static _ => 200 };
        var command = new Command("bench", "Measure end-to-end throughput (embedded broker → decode → detectors) and the decode share.") { minutes, traces };
        command.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(minutes), parse.GetValue(traces), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(int minutes, double tracesPerMinute, CancellationToken cancellationToken)
    {
        var simulator = new ShopSimulator(new ScenarioOptions { Seed = 11, DurationMs = minutes * 60_000L, TracesPerMinute = tracesPerMinute });
        var metricRecords = new List<byte[]>();
        var spanRecords = new List<byte[]>();
        long items = 0;
        var chunk = new List<Aiops.Core.SpanRecord>(SimulationProducer.SpansPerRecord);
        foreach (var batch in simulator.Batches())
        {
            metricRecords.Add(OtlpProtobufEncoder.EncodeMetricPoints(batch.Metrics));
            for (var i = 0; i < batch.Spans.Count; i += SimulationProducer.SpansPerRecord)
            {
                chunk.Clear();
                chunk.AddRange(batch.Spans.Skip(i).Take(SimulationProducer.SpansPerRecord));
                spanRecords.Add(OtlpProtobufEncoder.EncodeSpans(chunk));
            }

            items += batch.Metrics.Count + batch.Spans.Count;
        }

        var bytes = metricRecords.Sum(static r => (long)r.Length) + spanRecords.Sum(static r => (long)r.Length);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"workload: {minutes} simulated minutes, {metricRecords.Count + spanRecords.Count:N0} OTLP protobuf records, {items:N0} data points, {bytes / 1e6:0.0} MB"));

        // 1. Decode only (one thread), three passes, best kept: the decoders' cost without Kafka or detectors.
        var best = double.MaxValue;
        for (var pass = 0; pass < 3; pass++)
        {
            var metricsDecoder = new OtlpMetricsDecoder();
            var traceDecoder = new OtlpTraceDecoder();
            var decodeBatch = new DecodeBatch();
            var watch = Stopwatch.StartNew();
            foreach (var r in metricRecords)
            {
                decodeBatch.Clear();
                metricsDecoder.Decode(r, decodeBatch);
            }

            foreach (var r in spanRecords)
            {
                decodeBatch.Clear();
                traceDecoder.Decode(r, decodeBatch);
            }

            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"decode only:        {items / best,12:N0} points/s (1 thread, {best * 1000:0} ms)"));

        // 2. Pipeline only (decoded in advance): the detectors' and topology's cost.
        var decoded = new List<(bool IsSpan, Aiops.Core.SpanRecord Span, Aiops.Core.MetricPoint Point)>();
        foreach (var record in simulator.Records())
        {
            decoded.Add((record.IsSpan, record.Span, record.Metric));
        }

        var pipeline = new EventTimePipeline();
        var pipelineWatch = Stopwatch.StartNew();
        foreach (var (isSpan, span, point) in decoded)
        {
            if (isSpan)
            {
                pipeline.AddSpan(span);
            }
            else
            {
                pipeline.AddMetric(point);
            }
        }

        pipeline.Flush();
        var pipelineSeconds = pipelineWatch.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"pipeline only:      {items / pipelineSeconds,12:N0} points/s ({pipelineSeconds * 1000:0} ms, {pipeline.Counters.Anomalies:N0} anomalies, {pipeline.Counters.Series:N0} series)"));

        // 3. End to end: records on the embedded broker, the worker consuming, decoding, detecting, committing.
        using var broker = EmbeddedBroker.Start();
        await broker.CreateTopicsAsync([("otlp_metrics", 1), ("otlp_spans", 1), ("aiops.incidents", 1), ("aiops.deadletter", 1)]).ConfigureAwait(false);
        using (var producer = new SimulationProducer(broker.BootstrapServers, "otlp_metrics", "otlp_spans"))
        {
            foreach (var r in metricRecords)
            {
                producer.Produce("otlp_metrics", r);
            }

            foreach (var r in spanRecords)
            {
                producer.Produce("otlp_spans", r);
            }

            producer.Flush();
        }

        var overrides = new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = broker.BootstrapServers,
            ["Kafka:GroupId"] = "aiops-bench",
            ["Checkpoint:Enabled"] = "false",
            ["Metrics:Enabled"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        using var host = WorkerHost.CreateBuilder([], overrides, CoreServices.Register, LogLevel.Warning).Build();
        var endToEnd = Stopwatch.StartNew();
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        var metrics = host.Services.GetRequiredService<WorkerMetrics>();
        var total = metricRecords.Count + spanRecords.Count;
        TimeSpan? firstRecord = null;
        while (metrics.Records < total && endToEnd.Elapsed < TimeSpan.FromMinutes(10))
        {
            if (firstRecord is null && metrics.Records > 0)
            {
                firstRecord = endToEnd.Elapsed;
            }

            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }

        var seconds = (endToEnd.Elapsed - (firstRecord ?? TimeSpan.Zero)).TotalSeconds;
        await host.StopAsync(cancellationToken).ConfigureAwait(false);
        var points = metrics.Points + metrics.Spans;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"end to end (Kafka): {points / seconds,12:N0} points/s ({seconds:0.00} s from the first record consumed to the last, {metrics.Records:N0} records, {metrics.DeadLetters} dead letters)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"decode share of end to end: {(seconds > 0 ? best / seconds * 100 : 0):0.0} %"));
        return 0;
    }
}
