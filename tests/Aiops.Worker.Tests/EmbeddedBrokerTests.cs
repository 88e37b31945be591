using Aiops.Worker.Kafka;
using Confluent.Kafka;

namespace Aiops.Worker.Tests;

public sealed class EmbeddedBrokerTests
{
    [Fact]
    public async Task ItServesThreeBrokersThatCarryARecordFromAProducerToAConsumerGroup()
    {
        using var broker = EmbeddedBroker.Start(brokers: 3);

        // Three brokers asked for, three host:port entries in the bootstrap list.
        Assert.Equal(3, broker.BrokerCount);
        Assert.Equal(3, broker.BootstrapServers.Split(',').Length);

        await broker.CreateTopicsAsync([("roundtrip", 2)]);
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = broker.BootstrapServers }).Build())
        {
            var delivered = await producer.ProduceAsync("roundtrip", new Message<string, string> { Key = "k", Value = "hello" });
            Assert.Equal(PersistenceStatus.Persisted, delivered.Status);
        }

        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            GroupId = "roundtrip-group",
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe("roundtrip");
        ConsumeResult<string, string>? result = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (result is null && DateTime.UtcNow < deadline)
        {
            result = consumer.Consume(TimeSpan.FromMilliseconds(200));
        }

        Assert.NotNull(result);
        Assert.Equal("hello", result.Message.Value);
        consumer.Close();
    }
}
