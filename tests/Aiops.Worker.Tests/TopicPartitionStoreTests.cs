using System.Diagnostics;
using System.Text;
using Aiops.Worker.Kafka;
using Aiops.Worker.Options;
using Aiops.Worker.Processing;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Aiops.Worker.Tests;

/// <summary>
/// <see cref="TopicPartitionStore"/> on the mock cluster: states saved as chunk records in a real
/// topic and read back by another store instance (another process's view), torn and corrupt saves,
/// a 40 MB state spread over the state partitions, and a state the topic cannot keep.
/// </summary>
public sealed class TopicPartitionStoreTests : IClassFixture<BrokerFixture>, IDisposable
{
    /// <summary>The smallest chunk the options allow: 1024 − 56 header bytes = 968 state bytes per record.</summary>
    private const int ChunkBytes = 1024;
    private const int ChunkData = ChunkBytes - TopicPartitionStore.HeaderBytes;

    /// <summary>The default <c>Checkpoint:ChunkBytes</c>: 900,000 bytes per record.</summary>
    private const int DefaultChunkBytes = 900_000;

    /// <summary>What the librdkafka mock cluster keeps per partition: 5 MiB (<c>rdkafka_mock.c</c>, partition init).</summary>
    private const int MockPartitionBytes = 5 * 1024 * 1024;

    private readonly BrokerFixture _fixture;
    private readonly ITestOutputHelper _output;
    private readonly string _topic = "state-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _group = "g-" + Guid.NewGuid().ToString("N")[..8];
    private readonly List<IDisposable> _owned = [];

    public TopicPartitionStoreTests(BrokerFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
    }

    public void Dispose()
    {
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }
    }

    private async Task<TopicPartitionStore> StoreAsync(int statePartitions = 1, int chunkBytes = ChunkBytes)
    {
        await _fixture.Broker.CreateTopicsAsync([(_topic, statePartitions)]);
        var kafka = new KafkaOptions { BootstrapServers = _fixture.Broker.BootstrapServers, GroupId = _group, FlushTimeoutMs = 10_000 };
        var clients = new KafkaClients(
            Microsoft.Extensions.Options.Options.Create(kafka),
            Microsoft.Extensions.Options.Options.Create(new LimitsOptions()),
            Microsoft.Extensions.Options.Options.Create(new KafkaSecurityOptions()),
            NullLogger<KafkaClients>.Instance);
        var store = new TopicPartitionStore(
            clients,
            Microsoft.Extensions.Options.Options.Create(new RepartitionOptions { StateTopic = _topic, StatePartitions = statePartitions }),
            Microsoft.Extensions.Options.Options.Create(new CheckpointOptions { Scope = CheckpointScope.Partition, Store = CheckpointStore.Topic, ChunkBytes = chunkBytes }),
            Microsoft.Extensions.Options.Options.Create(kafka),
            new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance),
            NullLogger<TopicPartitionStore>.Instance);
        _owned.Add(store);
        _owned.Add(clients);
        return store;
    }

    /// <summary>A state of <paramref name="length"/> seeded bytes.</summary>
    private static byte[] State(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private List<Message<byte[]?, byte[]?>> Records(int partition)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig { BootstrapServers = _fixture.Broker.BootstrapServers, GroupId = "probe-" + _group, EnablePartitionEof = true }).Build();
        var tp = new TopicPartition(_topic, partition);
        var high = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value;
        var records = new List<Message<byte[]?, byte[]?>>();
        consumer.Assign(new TopicPartitionOffset(tp, Offset.Beginning));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (records.Count < high && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { IsPartitionEOF: false } r)
            {
                records.Add(r.Message);
            }
        }

        return records;
    }

    /// <summary>Writes chunks <paramref name="written"/> of a generation the way the store would, as a crash mid-save leaves them.</summary>
    private void ProducePartialGeneration(TopicPartitionStore store, TopicPartition input, long generation, byte[] state, int written, Func<byte[], byte[]>? tamper = null)
    {
        var chunks = (state.Length + ChunkData - 1) / ChunkData;
        var hash = System.Security.Cryptography.SHA256.HashData(state);
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = _fixture.Broker.BootstrapServers, EnableIdempotence = true }).Build();
        for (var i = 0; i < written; i++)
        {
            var data = state.AsSpan(i * ChunkData, Math.Min(ChunkData, state.Length - (i * ChunkData)));
            var value = new byte[TopicPartitionStore.HeaderBytes + data.Length];
            TopicPartitionStore.WriteHeader(value, generation, i, chunks, state.Length, hash);
            data.CopyTo(value.AsSpan(TopicPartitionStore.HeaderBytes));
            producer.Produce(store.StatePartitionOf(input), new Message<byte[]?, byte[]?> { Key = store.Key(input, generation, i), Value = tamper?.Invoke(value) ?? value });
        }

        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(10)));
    }

    /// <summary>Takes the partition on and saves one state, acknowledged.</summary>
    private static void SaveFirst(TopicPartitionStore store, TopicPartition input, byte[] state)
    {
        store.Load(input);
        store.Write(input, state);
        Assert.True(store.Flush());
    }

    [Fact]
    public async Task AChunkedStateIsReadBackByAnotherStoreByteForByteAndPartitionsDoNotMix()
    {
        var writer = await StoreAsync();
        var p0 = new TopicPartition("otlp_metrics", 0);
        var p1 = new TopicPartition("otlp_metrics", 1);
        var first = State(10_000, seed: 1);
        var second = State(500, seed: 2);
        Assert.Null(writer.Load(p0));
        writer.Write(p0, first);
        writer.Write(p1, second);
        Assert.True(writer.Flush());

        // Another instance (its own clients, nothing shared but the topic) takes both partitions over.
        var reader = await StoreAsync();
        Assert.Equal(first, reader.Load(p0));
        Assert.Equal(second, reader.Load(p1));

        // 10,000 bytes at 968 per chunk = 11 records, the 500-byte state 1: all in the one state partition.
        Assert.Equal(12, Records(0).Count);
    }

    [Fact]
    public async Task ANewerSaveReplacesTheOlderOneWhoseChunksAreTombstoned()
    {
        var store = await StoreAsync(statePartitions: 3);
        var input = new TopicPartition("otlp_metrics", 4);
        SaveFirst(store, input, State(2_000, seed: 3));
        var newer = State(1_500, seed: 4);
        store.Write(input, newer);
        Assert.True(store.Flush());
        store.Dispose();

        Assert.Equal(newer, (await StoreAsync(statePartitions: 3)).Load(input));
        // Generation 1 had 3 chunks (2,000 / 968 rounded up), generation 2 has 2: after them, 3 tombstones on
        // generation 1's keys, chunk i in the partition it was written to, i past the home partition.
        for (var i = 0; i < 3; i++)
        {
            var records = Records(store.StatePartitionOf(input, i).Partition.Value);
            Assert.Equal(store.StatePartitionOf(input, i), new TopicPartition(_topic, (store.StatePartitionOf(input).Partition.Value + i) % 3));
            var tombstones = records.Where(static r => r.Value is null).Select(static r => Encoding.UTF8.GetString(r.Key!)).ToList();
            Assert.Equal([$"{_group}/otlp_metrics/4/1/{i}"], tombstones);
        }
    }

    [Fact]
    public async Task ATornSaveIsSkippedForThePreviousCompleteStateAndTheNextSaveIsNotMixedWithIt()
    {
        var store = await StoreAsync();
        var input = new TopicPartition("otlp_spans", 2);
        var complete = State(3_000, seed: 5);
        SaveFirst(store, input, complete);

        // A crash after 2 of the 5 chunks of generation 2 (4,500 bytes at 968 per chunk).
        ProducePartialGeneration(store, input, generation: 2, State(4_500, seed: 6), written: 2);

        var next = await StoreAsync();
        Assert.Equal(complete, next.Load(input));

        // The next owner saves above the torn generation, so its chunks never combine with the torn ones.
        var later = State(2_500, seed: 7);
        next.Write(input, later);
        Assert.True(next.Flush());
        Assert.Equal(later, (await StoreAsync()).Load(input));
        Assert.Contains(Records(0), r => r.Value is not null && Encoding.UTF8.GetString(r.Key!) == $"{_group}/otlp_spans/2/3/0");
    }

    [Fact]
    public async Task AGenerationWhoseBytesDoNotMatchItsHashIsNotLoaded()
    {
        var store = await StoreAsync();
        var input = new TopicPartition("otlp_metrics", 0);
        var good = State(1_000, seed: 8);
        SaveFirst(store, input, good);

        // Generation 2 complete in count and length, but one state byte flipped after the hash was taken.
        ProducePartialGeneration(store, input, generation: 2, State(1_900, seed: 9), written: 2, tamper: static value =>
        {
            value[^1] ^= 0xFF;
            return value;
        });

        Assert.Equal(good, (await StoreAsync()).Load(input));
    }

    [Fact]
    public async Task AFortyMegabyteStateIsSpreadOverTheStatePartitionsAndReadBackByteForByteAfterASecondOneReplacesIt()
    {
        // 40,000,000 random bytes: incompressible, so the worst case for the mock's 5 MiB per partition
        // (a detector state compresses about 2:1, see TopicPartitionStore). 45 chunks of 899,944 bytes
        // over 12 partitions: at most 4 chunks, 3.6 MB, in any one.
        const int Length = 40_000_000;
        var writer = await StoreAsync(statePartitions: 12, chunkBytes: DefaultChunkBytes);
        var input = new TopicPartition("otlp_metrics", 7);
        var first = State(Length, seed: 10);
        Assert.Null(writer.Load(input));
        var clock = Stopwatch.StartNew();
        writer.Write(input, first);
        Assert.True(writer.Flush());
        var saved = clock.Elapsed;

        var reader = await StoreAsync(statePartitions: 12, chunkBytes: DefaultChunkBytes);
        clock.Restart();
        Assert.Equal(first, reader.Load(input));
        var loaded = clock.Elapsed;

        // The new owner saves another 40 MB: the partitions now hold more than 5 MiB of the two
        // generations, so the mock drops the oldest batches, the first generation's (garbage by then).
        var second = State(Length, seed: 11);
        reader.Write(input, second);
        Assert.True(reader.Flush());
        Assert.Equal(second, (await StoreAsync(statePartitions: 12, chunkBytes: DefaultChunkBytes)).Load(input));
        _output.WriteLine($"40,000,000 bytes: saved in {saved.TotalMilliseconds:F0} ms, loaded in {loaded.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task AStateTheTopicCannotKeepIsRefusedWithTheReasonAndNeverLoadedInPart()
    {
        // One state partition: an 8,000,000-byte random state (9 chunks) is over the 5 MiB the mock
        // keeps in a partition, which drops its first chunks while the last ones are appended.
        var store = await StoreAsync(statePartitions: 1, chunkBytes: DefaultChunkBytes);
        var input = new TopicPartition("otlp_spans", 1);
        SaveFirst(store, input, State(1_000, seed: 12));
        var tooLarge = State(8_000_000, seed: 13);
        Assert.True(tooLarge.Length > MockPartitionBytes);
        store.Write(input, tooLarge);
        var refused = Assert.Throws<InvalidOperationException>(() => store.Flush());
        Assert.Contains("8,000,000 bytes", refused.Message, StringComparison.Ordinal);
        Assert.Contains("cannot be kept", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Repartition:StatePartitions", refused.Message, StringComparison.Ordinal);

        // What is left of the large save is never loaded; the small one before it was dropped by the
        // mock with the large save's first chunks, so the partition starts empty.
        Assert.Null((await StoreAsync(statePartitions: 1, chunkBytes: DefaultChunkBytes)).Load(input));
    }
}
