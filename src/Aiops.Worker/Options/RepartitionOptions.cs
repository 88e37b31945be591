using Microsoft.Extensions.Options;

namespace Aiops.Worker.Options;

/// <summary>
/// The worker's internal Kafka topics: the repartition topics that connect the pipeline's stages
/// across instances (per-service RED aggregates keyed by service, per-series verdicts for the one
/// incident/RCA owner) and the compacted topic that holds per-partition detector state when
/// <c>Checkpoint:Store=Topic</c>. Bound from the <c>Repartition</c> section; the worker creates a
/// missing topic at start and refuses to start when one exists with another layout
/// (<c>Kafka/InternalTopics</c>).
/// </summary>
public sealed class RepartitionOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Repartition";

    /// <summary>
    /// Partitions of <see cref="VerdictsTopic"/>: one, because the incident and root-cause stage must
    /// see every service's verdicts to correlate them, so exactly one instance owns it at a time.
    /// </summary>
    public const int VerdictsPartitions = 1;

    /// <summary>Asks for the broker's <c>default.replication.factor</c> (CreateTopics with -1, KIP-464, Kafka 2.4+).</summary>
    public const short BrokerDefaultReplication = -1;

    /// <summary>Largest partition count accepted: far above what a worker group needs, low enough to catch a typo.</summary>
    internal const int MaxPartitions = 10_000;

    /// <summary>
    /// Turns the repartitioned pipeline on: spans and metrics are reduced per input partition and
    /// forwarded through <see cref="RedTopic"/> and <see cref="VerdictsTopic"/>. Off: every instance
    /// runs the whole pipeline on its own partitions (the pre-repartition behaviour).
    /// </summary>
    public bool Enabled { get; set; }

    /// <summary>Topic of the per-service RED aggregates, keyed by service name.</summary>
    public string RedTopic { get; set; } = "aiops.internal.red";

    /// <summary>
    /// Partitions of <see cref="RedTopic"/>: the most instances that can share the per-service
    /// stage. 12 divides evenly among 1, 2, 3, 4 or 6 instances.
    /// </summary>
    public int RedPartitions { get; set; } = 12;

    /// <summary>Topic of the per-series verdicts, read by the incident/RCA stage (<see cref="VerdictsPartitions"/> partition).</summary>
    public string VerdictsTopic { get; set; } = "aiops.internal.verdicts";

    /// <summary>
    /// Replication factor of the internal topics the worker creates; -1 (default) leaves it to the
    /// broker's <c>default.replication.factor</c>. An existing topic is not checked against it.
    /// </summary>
    public short ReplicationFactor { get; set; } = BrokerDefaultReplication;

    /// <summary>
    /// Compacted topic of the per-partition detector states (<c>Checkpoint:Store=Topic</c>): keyed
    /// by group, input topic and partition, so compaction keeps the latest state of each.
    /// </summary>
    public string StateTopic { get; set; } = "aiops.internal.state";

    /// <summary>
    /// Partitions of <see cref="StateTopic"/>. A partition's state is read back by scanning one
    /// state partition to its end, so more partitions mean less foreign state read per assignment;
    /// 12 keeps that to about one other state per partition for a group of up to 24 input partitions.
    /// The state of an input partition is placed by a fixed hash, so the count must not change later.
    /// </summary>
    public int StatePartitions { get; set; } = 12;

    /// <summary>The layout in one line (safe to log).</summary>
    public override string ToString() =>
        $"repartition {(Enabled ? "on" : "off")}: {RedTopic} ({RedPartitions} partitions), {VerdictsTopic} ({VerdictsPartitions}), state {StateTopic} ({StatePartitions}, compacted), replication {(ReplicationFactor == BrokerDefaultReplication ? "broker default" : ReplicationFactor)}";
}

/// <summary>
/// Checks <see cref="RepartitionOptions"/>: legal Kafka topic names, three different topics, partition
/// counts in range, a replication factor of -1 or at least 1. Each message names the full key.
/// </summary>
internal sealed class RepartitionOptionsValidator : IValidateOptions<RepartitionOptions>
{
    private const string Prefix = RepartitionOptions.Section + ":";

    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, RepartitionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        CheckTopic(failures, "RedTopic", options.RedTopic);
        CheckTopic(failures, "VerdictsTopic", options.VerdictsTopic);
        CheckTopic(failures, "StateTopic", options.StateTopic);
        CheckPartitions(failures, "RedPartitions", options.RedPartitions);
        CheckPartitions(failures, "StatePartitions", options.StatePartitions);
        if (options.ReplicationFactor is 0 or < RepartitionOptions.BrokerDefaultReplication)
        {
            failures.Add(Prefix + $"ReplicationFactor: {options.ReplicationFactor} is not a replication factor; use -1 (the broker's default) or 1 and more.");
        }

        CheckDistinct(failures, "VerdictsTopic", options.VerdictsTopic, "RedTopic", options.RedTopic);
        CheckDistinct(failures, "StateTopic", options.StateTopic, "RedTopic", options.RedTopic);
        CheckDistinct(failures, "StateTopic", options.StateTopic, "VerdictsTopic", options.VerdictsTopic);

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Kafka's topic name rule: 1 to 249 characters of ASCII letters, digits, '.', '_' and '-', not "." or "..".</summary>
    internal static bool IsLegalTopicName(string? topic)
    {
        if (string.IsNullOrEmpty(topic) || topic.Length > 249 || topic is "." or "..")
        {
            return false;
        }

        foreach (var c in topic)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    private static void CheckTopic(List<string> failures, string key, string? topic)
    {
        if (!IsLegalTopicName(topic))
        {
            failures.Add(Prefix + $"{key}: '{topic}' is not a legal Kafka topic name (1-249 characters of letters, digits, '.', '_' and '-').");
        }
    }

    private static void CheckDistinct(List<string> failures, string key, string topic, string otherKey, string other)
    {
        if (string.Equals(topic, other, StringComparison.Ordinal))
        {
            failures.Add(Prefix + $"{key}: '{topic}' is also {Prefix}{otherKey}; each internal topic needs its own (their layouts differ).");
        }
    }

    private static void CheckPartitions(List<string> failures, string key, int partitions)
    {
        if (partitions is < 1 or > RepartitionOptions.MaxPartitions)
        {
            failures.Add(Prefix + $"{key}: {partitions} partitions; must be between 1 and {RepartitionOptions.MaxPartitions}.");
        }
    }
}
