using Confluent.Kafka;

namespace Aiops.Worker.Kafka;

/// <summary>
/// An in-process Kafka cluster: librdkafka's mock cluster, hosted by one admin client created with
/// <c>test.mock.num.brokers</c>. It speaks the real protocol over loopback TCP (produce, fetch,
/// consumer groups, offset commits), so <c>aiops demo</c> and the integration tests drive exactly
/// the code that <c>aiops run</c> drives against a real cluster, only with another bootstrap list.
/// The cluster lives as long as this object: dispose it last, after every client that uses it.
/// </summary>
public sealed class EmbeddedBroker : IDisposable
{
    private readonly IAdminClient _host;

    private EmbeddedBroker(IAdminClient host, string bootstrapServers, int brokerCount)
    {
        _host = host;
        BootstrapServers = bootstrapServers;
        BrokerCount = brokerCount;
    }

    /// <summary>The <c>host:port</c> list of the mock brokers, for every other client.</summary>
    public string BootstrapServers { get; }

    /// <summary>Number of mock brokers.</summary>
    public int BrokerCount { get; }

    /// <summary>
    /// Starts a mock cluster of <paramref name="brokers"/> brokers (3 by default: enough for a
    /// replication factor of 3 and a partition leader moving between brokers) and reads the
    /// addresses it listens on from the hosting client's metadata.
    /// </summary>
    public static EmbeddedBroker Start(int brokers = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokers, 1);
        var config = new AdminClientConfig
        {
            // librdkafka replaces the bootstrap list with the mock brokers' addresses.
            BootstrapServers = "127.0.0.1:1",
        };
        config.Set("test.mock.num.brokers", brokers.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var host = new AdminClientBuilder(config).SetLogHandler(static (_, _) => { }).Build();
        try
        {
            var metadata = host.GetMetadata(TimeSpan.FromSeconds(10));
            if (metadata.Brokers.Count == 0)
            {
                throw new InvalidOperationException("The librdkafka mock cluster reported no brokers.");
            }

            var bootstrap = string.Join(',', metadata.Brokers.Select(static b => $"{b.Host}:{b.Port}"));

            // The mock names controller 0, which is no broker (ids start at 1): admin requests would wait
            // for a controller until they time out. With broker 1 named, the ones the mock does not
            // implement (CreateTopics, DescribeConfigs) fail at once with "not supported by broker".
            MockClusterNative.SetControllerId(host, 1);
            return new EmbeddedBroker(host, bootstrap, metadata.Brokers.Count);
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Creates topics with the given partition counts directly on the mock cluster (its admin API
    /// has no controller, so <c>CreateTopics</c> requests time out); otherwise a topic is
    /// auto-created on first produce with the mock's default partition count. Creating an existing
    /// topic again is an error librdkafka reports, which is ignored here.
    /// </summary>
    public Task CreateTopicsAsync(IEnumerable<(string Name, int Partitions)> topics)
    {
        ArgumentNullException.ThrowIfNull(topics);
        foreach (var (name, partitions) in topics)
        {
            try
            {
                MockClusterNative.CreateTopic(_host, name, partitions, Math.Min(3, BrokerCount));
            }
            catch (KafkaException ex) when (ex.Error.Code == ErrorCode.TopicAlreadyExists)
            {
                // Already there.
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Creates one topic on the mock cluster (what <c>InternalTopics</c> does instead of the
    /// CreateTopics request the mock does not implement); -1 replicas means one per broker, up to 3.
    /// Returns the replication factor used; throws <see cref="KafkaException"/>
    /// (<see cref="ErrorCode.TopicAlreadyExists"/> when it exists).
    /// </summary>
    internal int CreateTopic(string name, int partitions, int replicationFactor)
    {
        var replicas = replicationFactor < 1 ? Math.Min(3, BrokerCount) : replicationFactor;
        MockClusterNative.CreateTopic(_host, name, partitions, replicas);
        return replicas;
    }

    /// <summary>Takes every broker down: clients lose their connections and cannot reconnect until <see cref="SetAllBrokersUp"/>.</summary>
    public void SetAllBrokersDown()
    {
        for (var id = 1; id <= BrokerCount; id++)
        {
            MockClusterNative.SetBrokerDown(_host, id);
        }
    }

    /// <summary>Brings every broker back up after <see cref="SetAllBrokersDown"/>.</summary>
    public void SetAllBrokersUp()
    {
        for (var id = 1; id <= BrokerCount; id++)
        {
            MockClusterNative.SetBrokerUp(_host, id);
        }
    }

    /// <summary>
    /// Makes the next requests of one Kafka API fail with the given errors, in order (e.g. Produce,
    /// API key 0, with <see cref="ErrorCode.NotLeaderForPartition"/>): what a broker under
    /// leadership changes or overload answers. Clients must retry them without losing records.
    /// </summary>
    public void PushRequestErrors(KafkaApiKey api, params ErrorCode[] errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        MockClusterNative.PushRequestErrors(_host, (short)api, errors);
    }

    /// <inheritdoc/>
    public void Dispose() => _host.Dispose();
}

/// <summary>Kafka protocol API keys the fault injection uses (from the Kafka protocol specification).</summary>
public enum KafkaApiKey : short
{
    /// <summary>Produce.</summary>
    Produce = 0,

    /// <summary>Fetch.</summary>
    Fetch = 1,

    /// <summary>OffsetCommit.</summary>
    OffsetCommit = 8,

    /// <summary>Heartbeat (consumer group membership).</summary>
    Heartbeat = 12,
}
