using System.Globalization;
using Aiops.Worker.Options;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aiops.Worker.Kafka;

/// <summary>One internal topic the worker needs: its name, layout, and the settings that choose them.</summary>
/// <param name="Name">Topic name.</param>
/// <param name="Partitions">Partition count the worker relies on.</param>
/// <param name="ReplicationFactor">Replication factor for creation (-1: the broker's default).</param>
/// <param name="Compacted">True when the topic must have <c>cleanup.policy=compact</c>.</param>
/// <param name="NameSetting">The setting that names the topic, e.g. <c>Repartition:RedTopic</c>.</param>
/// <param name="PartitionsSetting">The setting that sets the partition count, or a sentence saying it is fixed.</param>
internal readonly record struct InternalTopic(string Name, int Partitions, short ReplicationFactor, bool Compacted, string NameSetting, string PartitionsSetting);

/// <summary>An internal topic exists with a layout the worker cannot use; the message says which setting to change.</summary>
internal sealed class InternalTopicLayoutException : Exception
{
    public InternalTopicLayoutException()
    {
    }

    public InternalTopicLayoutException(string message)
        : base(message)
    {
    }

    public InternalTopicLayoutException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Creates the worker's internal topics at start when they are missing, and refuses to start when
/// one exists with an incompatible layout: a different partition count (keyed records would land
/// on other partitions than the worker's placement expects, silently splitting a service's or a
/// partition state's records), or, for the state topic, a <c>cleanup.policy</c> without
/// <c>compact</c> (retention would delete states that were never superseded).
/// </summary>
/// <remarks>
/// <para>The replication factor of an existing topic is not checked: it changes durability, not
/// correctness, and an operator may raise it on purpose.</para>
/// <para>The librdkafka mock cluster (Confluent.Kafka 2.16 / librdkafka 2.16) implements neither
/// CreateTopics nor DescribeConfigs (its ApiVersions answer lists neither; with debug=admin the
/// request fails with "Topic Admin API (KIP-4) not supported by broker", or, while the mock's
/// Metadata names controller 0, which is no broker, with "Failed while waiting for controller:
/// Local: Timed out", the session-1 symptom). So when the worker hosts the mock itself
/// (<c>Kafka:BootstrapServers=embedded</c>) the topics are created with
/// <c>rd_kafka_mock_topic_create</c> and the cleanup policy is not checked; against any other
/// cluster the CreateTopics and DescribeConfigs requests are used.</para>
/// </remarks>
internal sealed class InternalTopics
{
    /// <summary>The topic config that makes a topic compacted.</summary>
    internal const string CleanupPolicy = "cleanup.policy";

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(15);

    private readonly KafkaClients _clients;
    private readonly RepartitionOptions _repartition;
    private readonly CheckpointOptions _checkpoint;
    private readonly ILogger<InternalTopics> _logger;

    public InternalTopics(KafkaClients clients, IOptions<RepartitionOptions> repartition, IOptions<CheckpointOptions> checkpoint, ILogger<InternalTopics> logger)
    {
        _clients = clients;
        _repartition = repartition.Value;
        _checkpoint = checkpoint.Value;
        _logger = logger;
    }

    /// <summary>
    /// The internal topics this configuration needs: the RED and verdicts topics when
    /// <c>Repartition:Enabled</c>, the state topic when partition states are kept in Kafka
    /// (<c>Checkpoint:Enabled</c>, <c>Scope=Partition</c>, <c>Store=Topic</c>).
    /// </summary>
    public IReadOnlyList<InternalTopic> Required()
    {
        var topics = new List<InternalTopic>(3);
        var replication = _repartition.ReplicationFactor;
        if (_repartition.Enabled)
        {
            topics.Add(new InternalTopic(_repartition.RedTopic, _repartition.RedPartitions, replication, Compacted: false, "Repartition:RedTopic", "Repartition:RedPartitions"));
            topics.Add(new InternalTopic(_repartition.VerdictsTopic, RepartitionOptions.VerdictsPartitions, replication, Compacted: false, "Repartition:VerdictsTopic", "none (the verdicts topic always has 1 partition)"));
        }

        if (_checkpoint is { Enabled: true, Scope: CheckpointScope.Partition, Store: CheckpointStore.Topic })
        {
            topics.Add(new InternalTopic(_repartition.StateTopic, _repartition.StatePartitions, replication, Compacted: true, "Repartition:StateTopic", "Repartition:StatePartitions"));
        }

        return topics;
    }

    /// <summary>
    /// Makes sure every <see cref="Required"/> topic exists with its layout: creates the missing ones
    /// and checks the existing ones. Throws <see cref="InternalTopicLayoutException"/> naming the
    /// topic, what was found, what is expected and the setting to change; a <see cref="KafkaException"/>
    /// when the cluster does not answer within the request timeout.
    /// </summary>
    public void Ensure()
    {
        var required = Required();
        if (required.Count == 0)
        {
            return;
        }

        var embedded = _clients.Embedded;
        using var admin = new AdminClientBuilder(_clients.AdminConfig()).SetLogHandler(static (_, _) => { }).Build();
        EnsureAsync(admin, embedded, required).GetAwaiter().GetResult();
    }

    /// <summary><see cref="Ensure"/> with a given admin client; <paramref name="embedded"/> creates the topics when the worker hosts the mock cluster.</summary>
    internal async Task EnsureAsync(IAdminClient admin, EmbeddedBroker? embedded, IReadOnlyList<InternalTopic> required)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ArgumentNullException.ThrowIfNull(required);

        // Metadata for all topics: asking for one by name may auto-create it with the broker's defaults.
        var existing = Existing(admin);
        var missing = new List<InternalTopic>();
        foreach (var topic in required)
        {
            if (existing.TryGetValue(topic.Name, out var partitions))
            {
                await CheckAsync(admin, topic, partitions).ConfigureAwait(false);
            }
            else
            {
                missing.Add(topic);
            }
        }

        if (missing.Count == 0)
        {
            return;
        }

        if (embedded is not null)
        {
            CreateOnMock(embedded, missing);
            return;
        }

        try
        {
            await admin.CreateTopicsAsync(
                missing.Select(static t => new TopicSpecification
                {
                    Name = t.Name,
                    NumPartitions = t.Partitions,
                    ReplicationFactor = t.ReplicationFactor,
                    Configs = t.Compacted ? new Dictionary<string, string> { [CleanupPolicy] = "compact" } : null,
                }),
                new CreateTopicsOptions { RequestTimeout = RequestTimeout, OperationTimeout = RequestTimeout }).ConfigureAwait(false);
        }
        catch (CreateTopicsException ex)
        {
            var raced = new List<InternalTopic>();
            foreach (var result in ex.Results)
            {
                if (!result.Error.IsError)
                {
                    continue;
                }

                var topic = missing.First(t => t.Name == result.Topic);
                if (result.Error.Code != ErrorCode.TopicAlreadyExists)
                {
                    throw new InternalTopicLayoutException($"Internal topic missing and could not be created: {Describe(topic)}. CreateTopics failed: {result.Error.Code}: {result.Error.Reason}. Create it by hand or fix the broker's permissions (CreateTopics on the topic).", ex);
                }

                // Another instance created it between the metadata and the request: check its layout.
                raced.Add(topic);
            }

            if (raced.Count > 0)
            {
                existing = Existing(admin);
                foreach (var topic in raced)
                {
                    await CheckAsync(admin, topic, existing.GetValueOrDefault(topic.Name, topic.Partitions)).ConfigureAwait(false);
                }
            }
        }
        catch (KafkaException ex)
        {
            // The request as a whole failed (no controller, API not supported, not authorized, timed out).
            var layouts = string.Join("; ", missing.Select(Describe));
            throw new InternalTopicLayoutException($"Internal topics missing and could not be created: {layouts}. CreateTopics failed: {ex.Error.Code}: {ex.Error.Reason}. Create them by hand or fix the broker's permissions (CreateTopics on the topics).", ex);
        }

        foreach (var topic in missing)
        {
            Log.InternalTopicCreated(_logger, topic.Name, topic.Partitions, Replication(topic.ReplicationFactor), topic.Compacted ? "compact" : "delete");
        }
    }

    /// <summary>
    /// Refuses a state topic whose <c>cleanup.policy</c> (as DescribeConfigs answered it) lacks
    /// <c>compact</c>: <c>compact</c> and <c>compact,delete</c> pass, <c>delete</c> does not.
    /// </summary>
    internal static void CheckCleanupPolicy(InternalTopic topic, string policy)
    {
        if (!policy.Split(',', StringSplitOptions.TrimEntries).Contains("compact", StringComparer.Ordinal))
        {
            throw new InternalTopicLayoutException($"Internal topic '{topic.Name}' exists with {CleanupPolicy}={policy}, but the state topic must be compacted ({CleanupPolicy}=compact): with deletion, retention would remove partition states that no newer state replaces. Set {CleanupPolicy}=compact on the topic (kafka-configs --alter), or point {topic.NameSetting} to another topic.");
        }
    }

    private void CreateOnMock(EmbeddedBroker embedded, List<InternalTopic> missing)
    {
        foreach (var topic in missing)
        {
            int replicas;
            try
            {
                replicas = embedded.CreateTopic(topic.Name, topic.Partitions, topic.ReplicationFactor);
            }
            catch (KafkaException ex)
            {
                throw new InternalTopicLayoutException($"Internal topic '{topic.Name}' ({topic.NameSetting}) could not be created on the embedded broker: {ex.Error.Reason}.", ex);
            }

            Log.InternalTopicCreated(_logger, topic.Name, topic.Partitions, replicas.ToString(CultureInfo.InvariantCulture), "delete (the mock cluster does not compact)");
        }
    }

    private static Dictionary<string, int> Existing(IAdminClient admin)
    {
        var metadata = admin.GetMetadata(RequestTimeout);
        var topics = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var topic in metadata.Topics)
        {
            if (topic.Error.Code != ErrorCode.UnknownTopicOrPart)
            {
                topics[topic.Topic] = topic.Partitions.Count;
            }
        }

        return topics;
    }

    private async Task CheckAsync(IAdminClient admin, InternalTopic topic, int partitions)
    {
        if (partitions != topic.Partitions)
        {
            throw new InternalTopicLayoutException(string.Create(CultureInfo.InvariantCulture, $"Internal topic '{topic.Name}' exists with {partitions} partitions, but the worker expects {topic.Partitions} (setting {topic.PartitionsSetting}). Records keyed for {topic.Partitions} partitions would land on the wrong ones. Set {topic.PartitionsSetting} to {partitions} to use the topic as it is, or point {topic.NameSetting} to another topic (or delete this one so the worker creates it)."));
        }

        if (!topic.Compacted)
        {
            Log.InternalTopicChecked(_logger, topic.Name, partitions);
            return;
        }

        string? policy;
        try
        {
            var described = await admin.DescribeConfigsAsync(
                [new ConfigResource { Type = ResourceType.Topic, Name = topic.Name }],
                new DescribeConfigsOptions { RequestTimeout = RequestTimeout }).ConfigureAwait(false);
            policy = described.Count > 0 && described[0].Entries.TryGetValue(CleanupPolicy, out var entry) ? entry.Value : null;
        }
        catch (KafkaException ex)
        {
            // A broker that does not answer DescribeConfigs (or an ACL without DescribeConfigs): the layout
            // that could be checked is fine; say what was not checked.
            Log.InternalTopicPolicyUnknown(_logger, topic.Name, ex.Error.Reason);
            return;
        }

        if (policy is null)
        {
            Log.InternalTopicPolicyUnknown(_logger, topic.Name, CleanupPolicy + " not in the DescribeConfigs answer");
            return;
        }

        CheckCleanupPolicy(topic, policy);
        Log.InternalTopicChecked(_logger, topic.Name, partitions);
    }

    private static string Describe(InternalTopic topic) =>
        string.Create(CultureInfo.InvariantCulture, $"'{topic.Name}' ({topic.NameSetting}) with {topic.Partitions} partitions, replication factor {Replication(topic.ReplicationFactor)}");

    private static string Replication(short factor) =>
        factor == RepartitionOptions.BrokerDefaultReplication ? "broker default" : factor.ToString(CultureInfo.InvariantCulture);
}
