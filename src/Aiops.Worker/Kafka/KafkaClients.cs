using Aiops.Worker.Options;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aiops.Worker.Kafka;

/// <summary>
/// Builds the worker's Kafka clients from <see cref="KafkaOptions"/>. When the bootstrap setting
/// is <c>embedded</c>, it starts one <see cref="EmbeddedBroker"/> for the life of the process and
/// gives its address list to every client.
/// </summary>
internal sealed class KafkaClients : IDisposable
{
    private readonly KafkaOptions _options;
    private readonly LimitsOptions _limits;
    private readonly KafkaSecurityOptions _security;
    private readonly ILogger<KafkaClients> _logger;
    private readonly Lock _gate = new();
    private EmbeddedBroker? _embedded;

    public KafkaClients(IOptions<KafkaOptions> options, IOptions<LimitsOptions> limits, IOptions<KafkaSecurityOptions> security, ILogger<KafkaClients> logger)
    {
        _options = options.Value;
        _limits = limits.Value;
        _security = security.Value;
        _logger = logger;
    }

    /// <summary>The bootstrap list every client connects to.</summary>
    public string BootstrapServers
    {
        get
        {
            if (!_options.UsesEmbeddedBroker)
            {
                return _options.BootstrapServers;
            }

            lock (_gate)
            {
                if (_embedded is null)
                {
                    _embedded = EmbeddedBroker.Start();
                    Log.EmbeddedBrokerStarted(_logger, _embedded.BrokerCount, _embedded.BootstrapServers);
                }

                return _embedded.BootstrapServers;
            }
        }
    }

    /// <summary>The in-process mock cluster when <c>Kafka:BootstrapServers=embedded</c> (started on first use), else null.</summary>
    internal EmbeddedBroker? Embedded
    {
        get
        {
            _ = BootstrapServers;
            lock (_gate)
            {
                return _embedded;
            }
        }
    }

    /// <summary>
    /// The consumer: manual commits only (<c>enable.auto.commit=false</c>), so an offset is
    /// committed after the records it covers are processed and their incidents flushed.
    /// </summary>
    public ConsumerBuilder<byte[]?, byte[]?> CreateConsumerBuilder() => new(ConsumerConfig());

    /// <summary>
    /// The consumer's settings. The prefetch queue is bounded by <see cref="LimitsOptions"/>: the
    /// loop processes a record on the thread that consumed it, so a full queue stops the fetching.
    /// </summary>
    internal ConsumerConfig ConsumerConfig()
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = BootstrapServers,
            GroupId = _options.GroupId,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = _options.AutoOffsetReset == "latest" ? AutoOffsetReset.Latest : AutoOffsetReset.Earliest,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            // 1 MiB per partition per fetch: a few hundred OTLP batches, enough to keep the decoder busy.
            MaxPartitionFetchBytes = 1 << 20,
            QueuedMaxMessagesKbytes = _limits.ConsumerQueueMaxKBytes,
            QueuedMinMessages = _limits.ConsumerQueueMinMessages,
        };
        Apply(config);
        return config;
    }

    /// <summary>
    /// The producer of incidents and dead letters: idempotent with <c>acks=all</c>, so a retried
    /// send never writes an incident event twice.
    /// </summary>
    public ProducerBuilder<byte[]?, byte[]?> CreateProducerBuilder() => new(ProducerConfig());

    /// <summary>The producer's settings; its queue is bounded by <see cref="LimitsOptions"/> (a full queue makes the loop wait).</summary>
    internal ProducerConfig ProducerConfig()
    {
        var config = new ProducerConfig
        {
            BootstrapServers = BootstrapServers,
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 5,
            QueueBufferingMaxMessages = _limits.ProducerQueueMaxMessages,
            QueueBufferingMaxKbytes = _limits.ProducerQueueMaxKBytes,
        };
        Apply(config);
        return config;
    }

    /// <summary>The security settings every client gets (for the start-up log: secrets masked by its <c>ToString</c>).</summary>
    public KafkaSecurityOptions Security => _security;

    /// <summary>
    /// Settings for an admin client (topic metadata and creation) with the same bootstrap list,
    /// security and client properties as the consumer and producer.
    /// </summary>
    internal AdminClientConfig AdminConfig()
    {
        var config = new AdminClientConfig { BootstrapServers = BootstrapServers };
        Apply(config);
        return config;
    }

    /// <summary>Security first, then the raw client properties, so an explicit librdkafka property wins.</summary>
    private void Apply(ClientConfig config)
    {
        if (!_options.UsesEmbeddedBroker)
        {
            // The in-process mock cluster speaks plaintext only.
            _security.ApplyTo(config);
        }

        foreach (var (key, value) in _options.ClientProperties)
        {
            config.Set(key, value);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_gate)
        {
            _embedded?.Dispose();
            _embedded = null;
        }
    }
}
