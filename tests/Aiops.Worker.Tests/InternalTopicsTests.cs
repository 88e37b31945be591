using Aiops.Worker.Hosting;
using Aiops.Worker.Kafka;
using Aiops.Worker.Options;
using Aiops.Worker.Telemetry;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Aiops.Worker.Tests;

/// <summary>
/// <see cref="InternalTopics"/> against the librdkafka mock cluster: real CreateTopics,
/// Metadata and DescribeConfigs requests over loopback TCP.
/// </summary>
public sealed class InternalTopicsTests : IClassFixture<BrokerFixture>
{
    private readonly BrokerFixture _fixture;

    public InternalTopicsTests(BrokerFixture fixture) => _fixture = fixture;

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    private static KafkaClients Clients(string bootstrap) => new(
        Microsoft.Extensions.Options.Options.Create(new KafkaOptions { BootstrapServers = bootstrap }),
        Microsoft.Extensions.Options.Options.Create(new LimitsOptions()),
        Microsoft.Extensions.Options.Options.Create(new KafkaSecurityOptions()),
        NullLogger<KafkaClients>.Instance);

    private static InternalTopics Topics(KafkaClients clients, RepartitionOptions repartition, CheckpointOptions checkpoint, ILogger<InternalTopics>? logger = null) =>
        new(clients, Microsoft.Extensions.Options.Options.Create(repartition), Microsoft.Extensions.Options.Options.Create(checkpoint), logger ?? NullLogger<InternalTopics>.Instance);

    private static RepartitionOptions Layout() => new()
    {
        Enabled = true,
        RedTopic = Unique("red"),
        RedPartitions = 6,
        VerdictsTopic = Unique("verdicts"),
        StateTopic = Unique("state"),
        StatePartitions = 4,
        ReplicationFactor = 3,
    };

    private static CheckpointOptions TopicStore() => new() { Scope = CheckpointScope.Partition, Store = CheckpointStore.Topic };

    private static TopicMetadata Metadata(string bootstrap, string topic)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).SetLogHandler(static (_, _) => { }).Build();
        return Assert.Single(admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics, t => t.Topic == topic);
    }

    [Fact]
    public void MissingTopicsAreCreatedOnTheEmbeddedBrokerWithThePartitionsAndReplicationAskedFor()
    {
        // Kafka:BootstrapServers=embedded: the worker hosts the mock cluster and creates through it
        // (the mock implements no CreateTopics request; see InternalTopics).
        using var clients = Clients("embedded");
        var layout = Layout();
        var log = new ListLogger<InternalTopics>();
        Topics(clients, layout, TopicStore(), log).Ensure();

        // Partition counts from Layout(); the verdicts topic always has one partition.
        Assert.Equal(6, Metadata(clients.BootstrapServers, layout.RedTopic).Partitions.Count);
        Assert.Single(Metadata(clients.BootstrapServers, layout.VerdictsTopic).Partitions);
        var state = Metadata(clients.BootstrapServers, layout.StateTopic);
        Assert.Equal(4, state.Partitions.Count);
        // Replication factor 3 asked for: three replicas of every partition (the embedded cluster has three brokers).
        Assert.All(state.Partitions, p => Assert.Equal(3, p.Replicas.Length));
        Assert.Equal(3, log.Messages.Count(m => m.StartsWith("Created internal topic", StringComparison.Ordinal)));
    }

    [Fact]
    public void OnlyTheTopicsTheConfigurationUsesAreRequired()
    {
        using var clients = Clients(_fixture.Broker.BootstrapServers);
        var layout = Layout();
        layout.Enabled = false;

        // Repartition off, directory store: nothing to create.
        Assert.Empty(Topics(clients, layout, new CheckpointOptions { Scope = CheckpointScope.Partition }).Required());
        // Repartition off, topic store: only the state topic, compacted.
        var state = Assert.Single(Topics(clients, layout, TopicStore()).Required());
        Assert.Equal((layout.StateTopic, 4, true), (state.Name, state.Partitions, state.Compacted));
    }

    [Fact]
    public async Task CompatibleExistingTopicsAreLeftAloneWithTheirRecords()
    {
        var layout = Layout();
        await _fixture.Broker.CreateTopicsAsync([(layout.RedTopic, 6), (layout.VerdictsTopic, 1), (layout.StateTopic, 4)]);
        using (var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = _fixture.Broker.BootstrapServers }).Build())
        {
            await producer.ProduceAsync(new TopicPartition(layout.RedTopic, 5), new Message<byte[]?, byte[]?> { Value = [1, 2, 3] });
        }

        var log = new ListLogger<InternalTopics>();
        using var clients = Clients(_fixture.Broker.BootstrapServers);
        Topics(clients, layout, TopicStore(), log).Ensure();

        // Not recreated: the record is still there, and all three were found as expected.
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig { BootstrapServers = _fixture.Broker.BootstrapServers, GroupId = Unique("probe") }).Build();
        Assert.Equal(1, consumer.QueryWatermarkOffsets(new TopicPartition(layout.RedTopic, 5), TimeSpan.FromSeconds(10)).High.Value);
        Assert.DoesNotContain(log.Messages, m => m.StartsWith("Created internal topic", StringComparison.Ordinal));
        Assert.Equal(2, log.Messages.Count(m => m.Contains("present with the expected", StringComparison.Ordinal)));
        // The mock answers no DescribeConfigs: the state topic's policy is reported as unchecked, not assumed.
        Assert.Contains(log.Messages, m => m.Contains($"{layout.StateTopic}: cleanup.policy could not be checked", StringComparison.Ordinal));
    }

    [Fact]
    public void AMissingTopicTheClusterDoesNotCreateRefusesTheStartNamingTopicAndReason()
    {
        // The fixture's mock is not hosted by these clients, so the real CreateTopics request goes out,
        // and the mock refuses it as an unsupported API: the start must fail with that reason, not hang.
        var layout = Layout();
        using var clients = Clients(_fixture.Broker.BootstrapServers);
        var error = Assert.Throws<InternalTopicLayoutException>(() => Topics(clients, layout, new CheckpointOptions()).Ensure());

        Assert.Contains($"'{layout.RedTopic}' (Repartition:RedTopic) with 6 partitions, replication factor 3", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{layout.VerdictsTopic}' (Repartition:VerdictsTopic) with 1 partitions", error.Message, StringComparison.Ordinal);
        Assert.Contains("not supported by broker", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("compact", true)]
    [InlineData("compact,delete", true)]
    [InlineData("delete", false)]
    public void AStateTopicPolicyWithoutCompactIsRefusedNamingThePolicyFoundAndTheSetting(string policy, bool accepted)
    {
        var topic = new InternalTopic("aiops.internal.state", 12, -1, Compacted: true, "Repartition:StateTopic", "Repartition:StatePartitions");
        var error = Record.Exception(() => InternalTopics.CheckCleanupPolicy(topic, policy));

        if (accepted)
        {
            Assert.Null(error);
            return;
        }

        var refused = Assert.IsType<InternalTopicLayoutException>(error);
        Assert.Contains("'aiops.internal.state' exists with cleanup.policy=delete", refused.Message, StringComparison.Ordinal);
        Assert.Contains("cleanup.policy=compact", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Repartition:StateTopic", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWorkerFindingARepartitionTopicWithAnotherPartitionCountStopsThroughTheFatalPathNamingTheSetting()
    {
        var topics = new TestTopics(_fixture.Broker);
        await topics.CreateAsync();
        var red = Unique("red");
        await _fixture.Broker.CreateTopicsAsync([(red, 3)]);
        var settings = topics.Settings();
        settings["Repartition:Enabled"] = "true";
        settings["Repartition:RedTopic"] = red;
        settings["Repartition:VerdictsTopic"] = Unique("verdicts");

        using var host = WorkerHost.CreateBuilder([], settings, CoreServices.Register, LogLevel.None).Build();
        var stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        try
        {
            await host.StartAsync();
            await Wait.UntilAsync(() => stopping.IsCancellationRequested, "the host to stop itself");
            var health = await host.Services.GetRequiredService<WorkerHealth>().CheckHealthAsync(new HealthCheckContext());

            Assert.Equal(HealthStatus.Unhealthy, health.Status);
            // 3 partitions found (created above), 12 expected (the RedPartitions default), and the setting to change.
            Assert.Contains($"'{red}' exists with 3 partitions, but the worker expects 12 (setting Repartition:RedPartitions)", health.Description, StringComparison.Ordinal);
            Assert.Equal(1, Environment.ExitCode);
        }
        finally
        {
            Environment.ExitCode = 0;
            await host.StopAsync();
        }
    }
}

/// <summary>Keeps the formatted messages logged through it.</summary>
internal sealed class ListLogger<T> : ILogger<T>
{
    private readonly List<string> _messages = [];

    public IReadOnlyList<string> Messages
    {
        get
        {
            lock (_messages)
            {
                return [.. _messages];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        lock (_messages)
        {
            _messages.Add(formatter(state, exception));
        }
    }
}
