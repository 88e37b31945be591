using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Aiops.Worker.Kafka;
using Aiops.Worker.Options;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aiops.Worker.Processing;

/// <summary>
/// <c>Checkpoint:Store=Topic</c>: each input partition's state as chunk records in the compacted
/// state topic (<c>Repartition:StateTopic</c>), so instances share nothing but the Kafka cluster.
/// </summary>
/// <remarks>
/// <para><b>Records.</b> One save of partition <c>p</c> of input topic <c>t</c> by group <c>g</c> is a
/// <i>generation</i> <c>n</c> (one more than the highest seen for that partition) of <c>k</c> chunks,
/// keyed <c>g/t/p/n/i</c> for <c>i</c> = 0..k-1; each value is a 56-byte header (magic <c>AWSC</c>,
/// version, generation, index, count, total length, SHA-256 of the whole state) and at most
/// <c>Checkpoint:ChunkBytes</c> − 56 bytes of the state. Every chunk has its own key so compaction,
/// which keeps the last record per key, keeps them all; once a generation is acknowledged the
/// previous one is deleted with tombstones (null values on its keys), which compaction then removes.</para>
/// <para><b>Placement.</b> All records of one input partition go to state partition
/// FNV-1a(<c>g/t/p</c>) mod <c>Repartition:StatePartitions</c>, chosen here rather than by the
/// producer's partitioner so the reader knows which one partition to scan.</para>
/// <para><b>Reading back.</b> On assignment a separate consumer (assign(), no group) reads that
/// state partition from its start to the high watermark and keeps the records whose key starts with
/// <c>g/t/p/</c>. The newest generation whose chunks are all present, agree on count and length,
/// and hash to the recorded SHA-256 is loaded; a torn save (a crash after some chunks) is skipped
/// for the previous complete generation, never loaded. Leftover generations (torn, or not yet
/// tombstoned) are tombstoned then, and the next save uses a generation above every one seen.</para>
/// <para>Not thread-safe: the consume loop owns it.</para>
/// </remarks>
internal sealed class TopicPartitionStore : IPartitionStateStore
{
    /// <summary>"AWSC": Aiops worker state chunk.</summary>
    internal const uint ChunkMagic = 0x43535741;

    /// <summary>Chunk header version.</summary>
    internal const int ChunkVersion = 1;

    /// <summary>Header bytes before a chunk's data: magic, version, generation, index, count, total length, SHA-256.</summary>
    internal const int HeaderBytes = 4 + 4 + 8 + 4 + 4 + 8 + 32;

    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(60);

    private readonly KafkaClients _clients;
    private readonly string _topic;
    private readonly int _statePartitions;
    private readonly string _group;
    private readonly int _chunkBytes;
    private readonly int _flushTimeoutMs;
    private readonly CancellationToken _stopping;
    private readonly ILogger<TopicPartitionStore> _logger;
    private readonly Dictionary<TopicPartition, Generations> _known = [];
    private readonly List<(TopicPartition Partition, long Generation, int Chunks)> _unflushed = [];
    private IProducer<byte[]?, byte[]?>? _producer;
    private IConsumer<byte[]?, byte[]?>? _reader;
    private Error? _deliveryError;

    public TopicPartitionStore(
        KafkaClients clients,
        IOptions<RepartitionOptions> repartition,
        IOptions<CheckpointOptions> checkpoint,
        IOptions<KafkaOptions> kafka,
        IHostApplicationLifetime lifetime,
        ILogger<TopicPartitionStore> logger)
    {
        _clients = clients;
        _topic = repartition.Value.StateTopic;
        _statePartitions = repartition.Value.StatePartitions;
        _group = kafka.Value.GroupId;
        _flushTimeoutMs = kafka.Value.FlushTimeoutMs;
        _chunkBytes = checkpoint.Value.ChunkBytes;
        _stopping = lifetime.ApplicationStopping;
        _logger = logger;
    }

    /// <summary>State bytes per chunk record.</summary>
    private int ChunkData => _chunkBytes - HeaderBytes;

    /// <summary>The key prefix of one input partition's records: <c>group/topic/partition</c>.</summary>
    internal string Prefix(TopicPartition partition) =>
        string.Create(CultureInfo.InvariantCulture, $"{_group}/{partition.Topic}/{partition.Partition.Value}");

    /// <summary>The state partition that holds one input partition's records.</summary>
    internal TopicPartition StatePartitionOf(TopicPartition partition) => new(_topic, StatePartitionOf(Prefix(partition), _statePartitions));

    /// <summary>
    /// FNV-1a (32-bit: offset basis 2166136261, prime 16777619) of the UTF-8 key prefix, mod the
    /// partition count: fixed across processes and versions, unlike <c>string.GetHashCode</c>.
    /// </summary>
    internal static int StatePartitionOf(string prefix, int partitions)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(prefix))
        {
            hash = (hash ^ b) * 16777619u;
        }

        return (int)(hash % (uint)partitions);
    }

    /// <inheritdoc/>
    public string Describe(TopicPartition partition) =>
        string.Create(CultureInfo.InvariantCulture, $"{_topic}[{StatePartitionOf(partition).Partition.Value}] key {Prefix(partition)}/…");

    /// <inheritdoc/>
    public byte[]? Load(TopicPartition partition)
    {
        var prefix = Prefix(partition) + "/";
        var found = Scan(StatePartitionOf(partition), prefix);
        var known = new Generations { Highest = found.Count == 0 ? 0 : found.Keys.Max() };
        byte[]? state = null;
        foreach (var (generation, chunks) in found.OrderByDescending(static g => g.Key))
        {
            if (state is null && chunks.TryAssemble() is { } complete)
            {
                state = complete;
                known.Current = generation;
                known.CurrentChunks = chunks.Count;
                continue;
            }

            if (chunks.Live == 0)
            {
                // Every chunk already tombstoned: nothing left to delete.
                continue;
            }

            if (state is null)
            {
                Log.StateGenerationSkipped(_logger, prefix, generation, chunks.Describe());
            }

            known.Garbage.Add((generation, chunks.Count));
        }

        _known[partition] = known;
        DeleteGarbage(partition, known);
        return state;
    }

    /// <inheritdoc/>
    public void Write(TopicPartition partition, ReadOnlySpan<byte> state)
    {
        if (!_known.TryGetValue(partition, out var known))
        {
            // Saved without having been loaded (the assignment callback was missed): learn the generations first.
            Load(partition);
            known = _known[partition];
        }

        var generation = ++known.Highest;
        var chunks = Math.Max(1, (state.Length + ChunkData - 1) / ChunkData);
        var hash = SHA256.HashData(state);
        var target = StatePartitionOf(partition);
        var producer = Producer();
        for (var i = 0; i < chunks; i++)
        {
            var data = state.Slice(i * ChunkData, Math.Min(ChunkData, state.Length - (i * ChunkData)));
            var value = new byte[HeaderBytes + data.Length];
            WriteHeader(value, generation, i, chunks, state.Length, hash);
            data.CopyTo(value.AsSpan(HeaderBytes));
            Produce(producer, target, new Message<byte[]?, byte[]?> { Key = Key(partition, generation, i), Value = value }, report: true);
        }

        _unflushed.Add((partition, generation, chunks));
    }

    /// <inheritdoc/>
    public bool Flush()
    {
        if (_producer is not { } producer)
        {
            return true;
        }

        while (true)
        {
            var remaining = producer.Flush(TimeSpan.FromMilliseconds(_flushTimeoutMs));
            if (remaining == 0)
            {
                break;
            }

            if (_stopping.IsCancellationRequested)
            {
                return false;
            }

            Log.StateTopicWaiting(_logger, remaining, _topic, _flushTimeoutMs);
        }

        if (Interlocked.Exchange(ref _deliveryError, null) is { } error)
        {
            throw new KafkaException(new Error(error.Code, $"A partition state chunk was not delivered to {_topic} ({error.Reason}); offsets not committed."));
        }

        // Acknowledged: the new generations replace the old ones, which can go.
        foreach (var (partition, generation, chunks) in _unflushed)
        {
            var known = _known[partition];
            if (known.Current > 0)
            {
                known.Garbage.Add((known.Current, known.CurrentChunks));
            }

            known.Current = generation;
            known.CurrentChunks = chunks;
            DeleteGarbage(partition, known);
        }

        _unflushed.Clear();
        return true;
    }

    /// <summary>A chunk record's value header.</summary>
    internal static void WriteHeader(Span<byte> value, long generation, int index, int count, long totalLength, ReadOnlySpan<byte> sha256)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(value, ChunkMagic);
        BinaryPrimitives.WriteInt32LittleEndian(value[4..], ChunkVersion);
        BinaryPrimitives.WriteInt64LittleEndian(value[8..], generation);
        BinaryPrimitives.WriteInt32LittleEndian(value[16..], index);
        BinaryPrimitives.WriteInt32LittleEndian(value[20..], count);
        BinaryPrimitives.WriteInt64LittleEndian(value[24..], totalLength);
        sha256.CopyTo(value[32..]);
    }

    /// <summary>The record key of one chunk: <c>group/topic/partition/generation/index</c>.</summary>
    internal byte[] Key(TopicPartition partition, long generation, int index) =>
        Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{Prefix(partition)}/{generation}/{index}"));

    /// <inheritdoc/>
    public void Dispose()
    {
        // Give pending tombstones a moment; any left are deleted by the next owner's read-back.
        _producer?.Flush(TimeSpan.FromSeconds(5));
        _producer?.Dispose();
        _producer = null;
        _reader?.Close();
        _reader?.Dispose();
        _reader = null;
    }

    private Dictionary<long, Chunks> Scan(TopicPartition statePartition, string prefix)
    {
        var found = new Dictionary<long, Chunks>();
        var reader = Reader();
        var marks = reader.QueryWatermarkOffsets(statePartition, ReadTimeout);
        if (marks.High.Value <= marks.Low.Value)
        {
            return found;
        }

        var deadline = DateTime.UtcNow + ReadTimeout;
        reader.Assign(new TopicPartitionOffset(statePartition, marks.Low));
        try
        {
            while (true)
            {
                var result = reader.Consume(TimeSpan.FromMilliseconds(200));
                if (result is null)
                {
                    if (DateTime.UtcNow > deadline)
                    {
                        throw new KafkaException(new Error(ErrorCode.Local_TimedOut, string.Create(CultureInfo.InvariantCulture, $"Reading {statePartition} back to offset {marks.High.Value} took longer than {ReadTimeout.TotalSeconds} s.")));
                    }

                    continue;
                }

                if (!result.IsPartitionEOF)
                {
                    Apply(result.Message, prefix, found);
                }

                if (result.Offset.Value >= marks.High.Value - 1)
                {
                    break;
                }
            }
        }
        finally
        {
            reader.Unassign();
        }

        return found;
    }

    /// <summary>Adds one record of the state partition to <paramref name="found"/> when it belongs to <paramref name="prefix"/>.</summary>
    private static void Apply(Message<byte[]?, byte[]?> message, string prefix, Dictionary<long, Chunks> found)
    {
        if (message.Key is not { } keyBytes)
        {
            return;
        }

        var key = Encoding.UTF8.GetString(keyBytes);
        if (!key.StartsWith(prefix, StringComparison.Ordinal))
        {
            return;
        }

        var rest = key.AsSpan(prefix.Length);
        var slash = rest.IndexOf('/');
        if (slash < 0
            || !long.TryParse(rest[..slash], NumberStyles.None, CultureInfo.InvariantCulture, out var generation)
            || !int.TryParse(rest[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            return;
        }

        if (!found.TryGetValue(generation, out var chunks))
        {
            chunks = new Chunks();
            found[generation] = chunks;
        }

        chunks.Add(generation, index, message.Value);
    }

    private void DeleteGarbage(TopicPartition partition, Generations known)
    {
        if (known.Garbage.Count == 0)
        {
            return;
        }

        var producer = Producer();
        var target = StatePartitionOf(partition);
        foreach (var (generation, chunks) in known.Garbage)
        {
            for (var i = 0; i < chunks; i++)
            {
                Produce(producer, target, new Message<byte[]?, byte[]?> { Key = Key(partition, generation, i), Value = null }, report: false);
            }
        }

        known.Garbage.Clear();
    }

    private void Produce(IProducer<byte[]?, byte[]?> producer, TopicPartition target, Message<byte[]?, byte[]?> message, bool report)
    {
        while (true)
        {
            try
            {
                if (report)
                {
                    producer.Produce(target, message, r =>
                    {
                        if (r.Error.IsError)
                        {
                            Interlocked.CompareExchange(ref _deliveryError, r.Error, null);
                        }
                    });
                }
                else
                {
                    // A lost tombstone only leaves garbage the next read-back deletes again.
                    producer.Produce(target, message);
                }

                return;
            }
            catch (ProduceException<byte[]?, byte[]?> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(50));
            }
        }
    }

    private IProducer<byte[]?, byte[]?> Producer()
    {
        if (_producer is null)
        {
            var config = _clients.ProducerConfig();
            // A chunk record (header, key, up to ChunkBytes of value) must pass the client's own limit.
            config.MessageMaxBytes = Math.Max(1_000_000, _chunkBytes + 4096);
            _producer = new ProducerBuilder<byte[]?, byte[]?>(config).SetLogHandler(static (_, _) => { }).Build();
        }

        return _producer;
    }

    private IConsumer<byte[]?, byte[]?> Reader()
    {
        if (_reader is null)
        {
            var config = _clients.ConsumerConfig();
            // assign() only: the group id is never joined nor committed to.
            config.GroupId = _group + ".state-reader";
            config.EnableAutoCommit = false;
            config.EnablePartitionEof = true;
            config.AutoOffsetReset = AutoOffsetReset.Earliest;
            _reader = new ConsumerBuilder<byte[]?, byte[]?>(config).SetLogHandler(static (_, _) => { }).Build();
        }

        return _reader;
    }

    /// <summary>What is known of one input partition's generations in the topic.</summary>
    private sealed class Generations
    {
        public long Highest { get; set; }

        public long Current { get; set; }

        public int CurrentChunks { get; set; }

        public List<(long Generation, int Chunks)> Garbage { get; } = [];
    }

    /// <summary>The chunk records of one generation seen while reading back.</summary>
    private sealed class Chunks
    {
        private readonly Dictionary<int, byte[]> _values = [];
        private int _count = -1;
        private long _length = -1;
        private byte[]? _hash;
        private bool _inconsistent;

        /// <summary>Chunks the generation has (from its headers), or the highest index seen + 1.</summary>
        public int Count => _count > 0 ? _count : (_values.Count == 0 ? 0 : _values.Keys.Max() + 1);

        /// <summary>Chunks not (yet) tombstoned.</summary>
        public int Live => _values.Count;

        public void Add(long generation, int index, byte[]? value)
        {
            if (value is null)
            {
                _values.Remove(index);
                return;
            }

            if (value.Length < HeaderBytes
                || BinaryPrimitives.ReadUInt32LittleEndian(value) != ChunkMagic
                || BinaryPrimitives.ReadInt32LittleEndian(value.AsSpan(4)) != ChunkVersion
                || BinaryPrimitives.ReadInt64LittleEndian(value.AsSpan(8)) != generation
                || BinaryPrimitives.ReadInt32LittleEndian(value.AsSpan(16)) != index)
            {
                // Kept (so it is tombstoned with the rest) but never loaded.
                _inconsistent = true;
                _values[index] = value;
                return;
            }

            var count = BinaryPrimitives.ReadInt32LittleEndian(value.AsSpan(20));
            var length = BinaryPrimitives.ReadInt64LittleEndian(value.AsSpan(24));
            var hash = value.AsSpan(32, 32);
            if (_hash is null)
            {
                _count = count;
                _length = length;
                _hash = hash.ToArray();
            }
            else if (count != _count || length != _length || !hash.SequenceEqual(_hash))
            {
                _inconsistent = true;
            }

            _values[index] = value;
        }

        /// <summary>The state when every chunk is there and the bytes hash to the recorded SHA-256; otherwise null.</summary>
        public byte[]? TryAssemble()
        {
            if (_inconsistent || _hash is null || _count < 1 || _values.Count != _count || _length > Array.MaxLength)
            {
                return null;
            }

            var state = new byte[_length];
            long at = 0;
            for (var i = 0; i < _count; i++)
            {
                if (!_values.TryGetValue(i, out var value) || at + value.Length - HeaderBytes > _length)
                {
                    return null;
                }

                value.AsSpan(HeaderBytes).CopyTo(state.AsSpan((int)at));
                at += value.Length - HeaderBytes;
            }

            return at == _length && SHA256.HashData(state).AsSpan().SequenceEqual(_hash) ? state : null;
        }

        public string Describe() =>
            _inconsistent ? "chunk headers disagree"
            : _values.Count == Count && Count > 0 ? "every chunk present, but the bytes do not match the SHA-256"
            : string.Create(CultureInfo.InvariantCulture, $"{_values.Count} of {Count} chunks");
    }
}
