using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Aiops.Worker.Options;

/// <summary>
/// The resource bounds of one worker process: how many series it learns, how large a record it
/// reads, and how much librdkafka may buffer between the brokers and the consume loop. The loop
/// decodes and processes each record on the thread that consumed it, so these client queues are
/// the only buffers between Kafka and the detectors: when the loop is slower than the input,
/// librdkafka stops fetching once its queue is full (backpressure) instead of growing memory.
/// Bound from the <c>Limits</c> configuration section.
/// </summary>
public sealed class LimitsOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Limits";

    /// <summary>
    /// Most series with detector state. At the cap, the series seen least recently is evicted with
    /// its baseline (counted in <c>aiops_series_evicted_total</c>). 100,000 series at the ~4 KiB a
    /// detector holds is about 400 MiB: the budget of one 1 GiB container with room for the rest.
    /// </summary>
    [Range(1, 50_000_000)]
    public int MaxSeries { get; set; } = 100_000;

    /// <summary>
    /// Largest record value read, in bytes; a bigger one goes to the dead-letter topic (kind
    /// <c>Oversized</c>) without being decoded. 8 MiB: the Collector's Kafka exporter sends batches
    /// of a few hundred KiB, and brokers raised for OTLP usually stop at 8-10 MiB.
    /// </summary>
    [Range(1_024, 256 * 1024 * 1024)]
    public int MaxRecordBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>
    /// Most bytes of the original value copied into a dead-letter record; a longer value is cut
    /// (header <c>aiops.error.truncated=true</c>, full size in <c>aiops.source.bytes</c>).
    /// 900,000: under librdkafka's and the broker's default 1,000,000-byte message limit with room
    /// for the key and headers, so a poison record can always be dead-lettered and never blocks its partition.
    /// </summary>
    [Range(0, 256 * 1024 * 1024)]
    public int MaxDeadLetterValueBytes { get; set; } = 900_000;

    /// <summary>
    /// librdkafka <c>queued.max.messages.kbytes</c>: most KiB the consumer prefetches ahead of the
    /// loop. 16,384 (16 MiB) instead of librdkafka's 65,536: at ~50 KiB per OTLP batch that is
    /// still ~300 records, more than a second of work, so fetching never starves the loop.
    /// </summary>
    [Range(1, 2_097_151)]
    public int ConsumerQueueMaxKBytes { get; set; } = 16 * 1024;

    /// <summary>librdkafka <c>queued.min.messages</c>: records per partition the consumer tries to keep queued. 10,000 (librdkafka: 100,000).</summary>
    [Range(1, 10_000_000)]
    public int ConsumerQueueMinMessages { get; set; } = 10_000;

    /// <summary>
    /// librdkafka <c>queue.buffering.max.messages</c>: incidents and dead letters waiting for the
    /// brokers. When full, the loop waits for deliveries (it stops consuming) instead of queueing more.
    /// </summary>
    [Range(1, 10_000_000)]
    public int ProducerQueueMaxMessages { get; set; } = 10_000;

    /// <summary>librdkafka <c>queue.buffering.max.kbytes</c>: the same bound in KiB; 65,536 (64 MiB) instead of librdkafka's 1 GiB.</summary>
    [Range(1, 2_147_483_647)]
    public int ProducerQueueMaxKBytes { get; set; } = 64 * 1024;
}

/// <summary>Source-generated validator for <see cref="LimitsOptions"/>.</summary>
[OptionsValidator]
internal sealed partial class LimitsOptionsValidator : IValidateOptions<LimitsOptions>;
