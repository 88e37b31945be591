using Aiops.Worker.Kafka;
using Aiops.Worker.Options;
using Microsoft.Extensions.Logging.Abstractions;
using OptionsFactory = Microsoft.Extensions.Options.Options;

namespace Aiops.Worker.Tests;

public sealed class KafkaClientsTests
{
    private static KafkaClients Clients(KafkaOptions? kafka = null, LimitsOptions? limits = null) =>
        new(OptionsFactory.Create(kafka ?? new KafkaOptions()), OptionsFactory.Create(limits ?? new LimitsOptions()), OptionsFactory.Create(new KafkaSecurityOptions()), NullLogger<KafkaClients>.Instance);

    [Fact]
    public void TheClientQueuesAreBoundedByTheLimitsSettings()
    {
        using var clients = Clients(limits: new LimitsOptions { ConsumerQueueMaxKBytes = 1_234, ConsumerQueueMinMessages = 567, ProducerQueueMaxMessages = 89, ProducerQueueMaxKBytes = 4_321 });

        var consumer = clients.ConsumerConfig();
        var producer = clients.ProducerConfig();

        Assert.Equal(1_234, consumer.QueuedMaxMessagesKbytes);
        Assert.Equal(567, consumer.QueuedMinMessages);
        Assert.Equal(89, producer.QueueBufferingMaxMessages);
        Assert.Equal(4_321, producer.QueueBufferingMaxKbytes);
    }

    [Fact]
    public void TheDefaultQueuesAreFarBelowLibrdkafkasOwnDefaults()
    {
        using var clients = Clients();

        // librdkafka's defaults (CONFIGURATION.md): queued.max.messages.kbytes 65536, queue.buffering.max.kbytes 1048576.
        Assert.True(clients.ConsumerConfig().QueuedMaxMessagesKbytes <= 65_536 / 4);
        Assert.True(clients.ProducerConfig().QueueBufferingMaxKbytes <= 1_048_576 / 16);
    }

    [Fact]
    public void ClientPropertiesOverrideTheBuiltInSettings()
    {
        using var clients = Clients(kafka: new KafkaOptions { ClientProperties = { ["queued.min.messages"] = "42" } });

        Assert.Equal(42, clients.ConsumerConfig().QueuedMinMessages);
    }
}
