using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Aiops.Worker.Options;

/// <summary>
/// Kafka connection, topics and the commit cadence of the worker. Bound from the <c>Kafka</c>
/// configuration section (<c>appsettings.json</c>, <c>AIOPS_Kafka__…</c> environment variables,
/// <c>--Kafka:…=…</c> on the command line). Every error message names the setting's full key so a
/// bad deployment fails at start with a sentence an operator can act on.
/// </summary>
public sealed class KafkaOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Kafka";

    /// <summary>
    /// Comma-separated <c>host:port</c> list, or <c>embedded</c> to start the in-process
    /// librdkafka mock cluster (what <c>aiops demo</c> and the integration tests use).
    /// </summary>
    [Required]
    [MinLength(1)]
    public string BootstrapServers { get; set; } = "localhost:9092";

    /// <summary>Consumer group id; instances with the same id split the partitions.</summary>
    [Required]
    [MinLength(1)]
    public string GroupId { get; set; } = "aiops-worker";

    /// <summary>Topic with OTLP metrics (the Collector exporter's default name).</summary>
    [Required]
    public string MetricsTopic { get; set; } = "otlp_metrics";

    /// <summary>Encoding of <see cref="MetricsTopic"/>.</summary>
    [EnumDataType(typeof(TopicEncoding))]
    [MetricsEncoding]
    public TopicEncoding MetricsEncoding { get; set; } = TopicEncoding.OtlpProtobuf;

    /// <summary>Topic with OTLP spans (the Collector exporter's default name).</summary>
    [Required]
    public string SpansTopic { get; set; } = "otlp_spans";

    /// <summary>Encoding of <see cref="SpansTopic"/>.</summary>
    [EnumDataType(typeof(TopicEncoding))]
    public TopicEncoding SpansEncoding { get; set; } = TopicEncoding.OtlpProtobuf;

    /// <summary>Topic the incident events (JSON, keyed by incident id) are produced to.</summary>
    [Required]
    [MinLength(1)]
    public string IncidentsTopic { get; set; } = "aiops.incidents";

    /// <summary>Topic undecodable records are copied to, with the reason in headers.</summary>
    [Required]
    [MinLength(1)]
    public string DeadLetterTopic { get; set; } = "aiops.deadletter";

    /// <summary>
    /// Records processed between two commits at most. 5,000 records of ~50 points each keep one
    /// commit (and one checkpoint) per ~250,000 points, well under a second of work at the
    /// 300,000 points/s target, so a crash replays at most about a second.
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxBatchRecords { get; set; } = 5_000;

    /// <summary>Longest wall-clock time between two commits, milliseconds.</summary>
    [Range(10, 600_000)]
    public int CommitIntervalMs { get; set; } = 1_000;

    /// <summary>How long one poll waits for a record, milliseconds.</summary>
    [Range(1, 10_000)]
    public int PollTimeoutMs { get; set; } = 100;

    /// <summary>Where a group without committed offsets starts: <c>earliest</c> or <c>latest</c>.</summary>
    [RegularExpression("^(earliest|latest)$")]
    public string AutoOffsetReset { get; set; } = "earliest";

    /// <summary>
    /// How long one wait for incidents and dead letters to be acknowledged lasts, milliseconds. While
    /// the brokers are away the worker logs and waits again (consuming nothing); when stopping, it
    /// gives up after one wait without committing, so the records are read again after the restart.
    /// </summary>
    [Range(100, 600_000)]
    public int FlushTimeoutMs { get; set; } = 30_000;

    /// <summary>
    /// Hand the pipeline the buffered record with the smallest event time across all assigned
    /// partitions (Kafka Streams' per-partition buffers, <see cref="Processing.EventTimeAligner"/>)
    /// instead of the order the consumer fetched them in. A backlog read from both topics at once
    /// otherwise feeds the small metrics records far ahead of the spans: the pipeline's watermark
    /// jumps and the spans behind it are dropped as late (65 % of them in session 1's bench).
    /// Not used with <c>Repartition:Enabled</c>, whose stages keep a watermark per source partition.
    /// </summary>
    public bool AlignEventTime { get; set; } = true;

    /// <summary>
    /// A partition whose newest buffered record is more than this many milliseconds of event time
    /// ahead of the records handed to the pipeline is paused (resumed at half). It bounds memory in
    /// event time; the buffer bounds below bound it in records and bytes. The order handed over
    /// does not depend on it (smallest event time first either way), only how often a partition
    /// is paused: 3,600,000 (1 hour). With 5 minutes, <c>aiops scale-bench</c> (6 partitions of 600
    /// one-minute records, 1 instance) paused and resumed each partition about every 3 records and
    /// took 25 s instead of 1.8 s (2.3 s unaligned), a fetch restarting after each resume on the
    /// mock cluster.
    /// </summary>
    [Range(1_000, 86_400_000)]
    public int MaxEventTimeSkewMs { get; set; } = 3_600_000;

    /// <summary>
    /// Longest wall-clock wait, milliseconds, for a partition that has no buffered record and has
    /// not been read to its end (Kafka Streams' <c>max.task.idle.ms</c>) before the other
    /// partitions' records are handed over without it. A partition read to its end (cached high
    /// watermark reached) never makes the others wait. 1,000 covers librdkafka's default
    /// 500 ms <c>fetch.wait.max.ms</c> twice over.
    /// </summary>
    [Range(0, 600_000)]
    public int MaxIdleWaitMs { get; set; } = 1_000;

    /// <summary>
    /// Records buffered per partition before it is paused (resumed at half). 2,000 records is
    /// about 33 hours of a resource's 1-minute metrics records, or 400,000 spans at 200 per record.
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxBufferedRecordsPerPartition { get; set; } = 2_000;

    /// <summary>
    /// Record value bytes buffered per partition before it is paused (resumed at half): 16 MiB,
    /// the size of librdkafka's whole prefetch queue (<see cref="LimitsOptions.ConsumerQueueMaxKBytes"/>).
    /// The decoded points and spans of those records are held beside them.
    /// </summary>
    [Range(65_536, 1_073_741_824)]
    public int MaxBufferedBytesPerPartition { get; set; } = 16 << 20;

    /// <summary>
    /// Extra librdkafka properties given to every client, after (so over) the worker's own settings
    /// and <see cref="KafkaSecurityOptions"/>. Values of keys that look secret (<c>password</c>,
    /// <c>secret</c>, <c>jaas</c>, <c>token</c>, <c>.pem</c>) are masked wherever the worker describes them.
    /// </summary>
    public Dictionary<string, string> ClientProperties { get; set; } = [];

    /// <summary>True when <see cref="BootstrapServers"/> asks for the in-process mock cluster.</summary>
    public bool UsesEmbeddedBroker => string.Equals(BootstrapServers, "embedded", StringComparison.OrdinalIgnoreCase);

    /// <summary>True for a librdkafka property whose value must not be shown (passwords, secrets, keys, tokens).</summary>
    public static bool IsSecretProperty(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Contains("password", StringComparison.OrdinalIgnoreCase)
            || key.Contains("secret", StringComparison.OrdinalIgnoreCase)
            || key.Contains("jaas", StringComparison.OrdinalIgnoreCase)
            || key.Contains("token", StringComparison.OrdinalIgnoreCase)
            || key.EndsWith(".pem", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary><see cref="ClientProperties"/> as <c>key=value</c> pairs, secret values masked.</summary>
    public string DescribeClientProperties() =>
        ClientProperties.Count == 0
            ? "none"
            : string.Join(", ", ClientProperties.OrderBy(static p => p.Key, StringComparer.Ordinal).Select(static p => p.Key + "=" + (IsSecretProperty(p.Key) ? KafkaSecurityOptions.Mask : p.Value)));

    /// <summary>The connection and topics in one line, secrets masked (safe to log).</summary>
    public override string ToString() =>
        $"bootstrap {BootstrapServers}, group {GroupId}, topics {MetricsTopic} ({MetricsEncoding}) and {SpansTopic} ({SpansEncoding}) -> {IncidentsTopic}, dead letters {DeadLetterTopic}, client properties: {DescribeClientProperties()}";
}

/// <summary>Source-generated validator for <see cref="KafkaOptions"/> (no reflection at start).</summary>
[OptionsValidator]
internal sealed partial class KafkaOptionsValidator : IValidateOptions<KafkaOptions>;
