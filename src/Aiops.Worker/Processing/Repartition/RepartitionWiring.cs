using Aiops.Ingestion;
using Aiops.Pipeline;
using Aiops.Worker.Kafka;
using Aiops.Worker.Options;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aiops.Worker.Processing.Repartition;

/// <summary>
/// The few steps the consume loop (<see cref="StreamWorker"/>) takes with <c>Repartition:Enabled</c>,
/// kept here so the loop's own edits stay a handful of lines.
/// </summary>
internal static class RepartitionWiring
{
    /// <summary>Metadata wait for the input topics' partition counts: 10 s, the admin default.</summary>
    private static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Builds the router: the per-service stages wait for a watermark from every input partition,
    /// so the partition counts of the spans and metrics topics are read from the cluster first.
    /// </summary>
    public static RepartitionRouter CreateRouter(KafkaClients clients, RepartitionOptions options, KafkaOptions kafka, IServiceProvider services)
    {
        var pipelineOptions = services.GetService<Func<PipelineOptions>>()
            ?? (() => Hosting.CoreServices.PipelineOptionsFor(services.GetRequiredService<IOptions<LimitsOptions>>().Value));
        using var admin = new AdminClientBuilder(clients.AdminConfig()).SetLogHandler(static (_, _) => { }).Build();
        int spans = PartitionCount(admin, kafka.SpansTopic);
        int metrics = PartitionCount(admin, kafka.MetricsTopic);
        return new RepartitionRouter(options, kafka, pipelineOptions, spans, metrics);
    }

    /// <summary>The stages' checkpoints (<c>Checkpoint:Enabled</c>, in the store of <c>Checkpoint:Store</c>), or null.</summary>
    public static StageCheckpoints? CreateCheckpoints(IServiceProvider services)
    {
        var checkpoint = services.GetRequiredService<IOptions<CheckpointOptions>>().Value;
        return checkpoint.Enabled
            ? new StageCheckpoints(services.GetRequiredService<IPartitionStateStore>(), checkpoint.IntervalMs, services.GetRequiredService<Telemetry.WorkerMetrics>(), services.GetRequiredService<ILoggerFactory>().CreateLogger<StageCheckpoints>())
            : null;
    }

    /// <summary>Routes one consumed record; returns the failure to dead-letter, or null.</summary>
    public static DecodeOutcome? Handle(RepartitionRouter router, ConsumeResult<byte[]?, byte[]?> result, RecordHandler handler, KafkaOptions kafka)
    {
        if (router.IsInternal(result.Topic))
        {
            return router.HandleInternal(result, out var reason) ? null : DecodeOutcome.Fail("RepartitionDecode", reason ?? "unreadable internal record");
        }

        var isSpans = string.Equals(result.Topic, kafka.SpansTopic, StringComparison.Ordinal);
        var outcome = handler.Handle(
            isSpans ? SignalKind.Spans : SignalKind.Metrics,
            isSpans ? kafka.SpansEncoding : kafka.MetricsEncoding,
            result.Message.Value,
            router.IngestFor(result.TopicPartition));
        return outcome.Success ? null : outcome;
    }

    /// <summary>True when the consumer has read <paramref name="partition"/> up to its high watermark (as last fetched).</summary>
    public static bool CaughtUp(IConsumer<byte[]?, byte[]?> consumer, TopicPartition partition, Dictionary<TopicPartition, long> processed)
    {
        var marks = consumer.GetWatermarkOffsets(partition);
        if (marks.High == Offset.Unset)
        {
            return false;
        }

        long position = processed.TryGetValue(partition, out long next) ? next : 0;
        return position >= marks.High.Value;
    }

    private static int PartitionCount(IAdminClient admin, string topic)
    {
        var metadata = admin.GetMetadata(topic, MetadataTimeout);
        var found = metadata.Topics.Find(t => string.Equals(t.Topic, topic, StringComparison.Ordinal));
        if (found is null || found.Error.IsError || found.Partitions.Count == 0)
        {
            throw new InvalidOperationException($"Repartition:Enabled needs the partition count of input topic '{topic}', which the cluster did not give ({found?.Error.Reason ?? "no metadata"}); create the topic first.");
        }

        return found.Partitions.Count;
    }
}
