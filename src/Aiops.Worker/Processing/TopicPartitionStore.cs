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
/// previous one is deleted with tombstones (null values on its keys), which compaction then removes.
/// The producer compresses each chunk's batch with zstd (unless <c>Kafka:ClientProperties</c> sets
/// <c>compression.type</c>): a detector state of series with some history compresses about 2:1
/// (zlib and Brotli at their fastest levels measured 1.96–2.56 : 1 and 2.20–2.98 : 1 on 1,000 series).</para>
/// <para><b>Placement.</b> Input partition <c>g/t/p</c> has a home state partition h =
/// FNV-1a(<c>g/t/p</c>) mod <c>Repartition:StatePartitions</c> (P), chosen here rather than by the
/// producer's partitioner so the reader knows where to look; chunk i goes to (h + i) mod P. A
/// one-chunk state stays on its home; a large one is spread over up to P partitions, so no partition
/// has to hold a whole 40 MB state. That matters for brokers that keep a bounded log per partition:
/// the librdkafka mock cluster keeps 5 MiB (<c>rdkafka_mock.c</c> sets every partition's
/// <c>max_size</c> to 5 MiB and <c>max_cnt</c> to 100,000 message sets when it creates it, with no
/// setting to change them, and drops the oldest message sets past either), and a real topic with
/// <c>cleanup.policy=compact,delete</c> and a <c>retention.bytes</c> does the same.</para>
/// <para><b>Reading back.</b> On assignment a separate consumer (assign(), no group) reads the home
/// partition from its start to the high watermark, and then the next partitions up to the largest
/// chunk count a header there names, keeping the records whose key starts with <c>g/t/p/</c>. The
/// newest generation whose chunks are all present, agree on count and length, and hash to the
/// recorded SHA-256 is loaded; a torn save (a crash after some chunks) or one the broker has
/// partly deleted is skipped for the previous complete generation, never loaded. Leftover
/// generations (torn, or not yet tombstoned) are tombstoned then, each chunk in the partition it
/// was read from, and the next save uses a generation above every one seen.</para>
/// <para><b>A state the topic cannot keep.</b> After a save is acknowledged the store checks that
/// the broker still has every chunk (each partition's log start offset is at or below the chunk's
/// offset). If not, the save is refused with an <see cref="InvalidOperationException"/> that names
/// the state's size, the partition and what to change; the offsets it covers are not committed and
/// the previous generation is kept (not tombstoned).</para>
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
    private readonly List<Save> _unflushed = [];
    private IProducer<byte[]?, byte[]?>? _producer;
    private IConsumer<byte[]?, byte[]?>? _reader;
    private Error? _deliveryError;
    private int _awaitingReports;

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

    /// <summary>The home state partition of one input partition: where its chunk 0 (and a one-chunk state) lives.</summary>
    internal TopicPartition StatePartitionOf(TopicPartition partition) => new(_topic, StatePartitionOf(Prefix(partition), _statePartitions));

    /// <summary>The state partition of chunk <paramref name="index"/> of an input partition's state: its home plus the index, mod the partition count.</summary>
    internal TopicPartition StatePartitionOf(TopicPartition partition, int index) =>
        new(_topic, (int)(((long)StatePartitionOf(Prefix(partition), _statePartitions) + index) % _statePartitions));

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
        string.Create(CultureInfo.InvariantCulture, $"{_topic}[{StatePartitionOf(partition).Partition.Value}…] key {Prefix(partition)}/…");

    /// <inheritdoc/>
    public byte[]? Load(TopicPartition partition)
    {
        var prefix = Prefix(partition) + "/";
        var found = new Dictionary<long, Chunks>();
        Scan([StatePartitionOf(partition)], prefix, found);

        // A spread state's chunk i lives i partitions past the home: read as far as the widest
        // generation seen, all those partitions in one assignment (each new fetch start costs the
        // mock cluster a few hundred ms: 12 one by one took 3.5 s for a 40 MB state).
        var width = Math.Min(_statePartitions, found.Count == 0 ? 1 : found.Values.Max(static c => c.Count));
        if (width > 1)
        {
            Scan([.. Enumerable.Range(1, width - 1).Select(i => StatePartitionOf(partition, i))], prefix, found);
        }

        var known = new Generations { Highest = found.Count == 0 ? 0 : found.Keys.Max() };
        byte[]? state = null;
        foreach (var (generation, chunks) in found.OrderByDescending(static g => g.Key))
        {
            if (state is null && chunks.TryAssemble() is { } complete)
            {
                state = complete;
                known.Current = (generation, chunks.Locations(i => StatePartitionOf(partition, i).Partition.Value));
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

            known.Garbage.Add((generation, chunks.Locations(i => StatePartitionOf(partition, i).Partition.Value)));
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
        var producer = Producer();
        var save = new Save(partition, generation, state.Length, new int[chunks], new long[chunks]);
        for (var i = 0; i < chunks; i++)
        {
            var data = state.Slice(i * ChunkData, Math.Min(ChunkData, state.Length - (i * ChunkData)));
            var value = new byte[HeaderBytes + data.Length];
            WriteHeader(value, generation, i, chunks, state.Length, hash);
            data.CopyTo(value.AsSpan(HeaderBytes));
            var target = StatePartitionOf(partition, i);
            save.Partitions[i] = target.Partition.Value;
            save.Offsets[i] = Offset.Unset.Value;
            Produce(producer, target, new Message<byte[]?, byte[]?> { Key = Key(partition, generation, i), Value = value }, save, i);
        }

        _unflushed.Add(save);
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
            _unflushed.Clear();
            throw new KafkaException(new Error(error.Code, $"A partition state chunk was not delivered to {_topic} ({error.Reason}); offsets not committed."));
        }

        // Acknowledged: every chunk must still be there (a bounded log may already have dropped
        // the first ones of a large save). A save that is not whole is refused; the old generation stays.
        WaitForReports();
        foreach (var save in _unflushed)
        {
            if (Trimmed(save) is { } problem)
            {
                foreach (var other in _unflushed)
                {
                    _known[other.Partition].Garbage.Add((other.Generation, other.Partitions));
                }

                _unflushed.Clear();
                throw new InvalidOperationException(problem);
            }
        }

        // The new generations replace the old ones, which can go.
        foreach (var save in _unflushed)
        {
            var known = _known[save.Partition];
            if (known.Current is { } current)
            {
                known.Garbage.Add(current);
            }

            known.Current = (save.Generation, save.Partitions);
            DeleteGarbage(save.Partition, known);
        }

        _unflushed.Clear();
        return true;
    }

    /// <summary>
    /// Null when the broker still holds every chunk of <paramref name="save"/>; otherwise why not,
    /// as the message the worker stops with.
    /// </summary>
    private string? Trimmed(Save save)
    {
        var reader = Reader();
        var lowest = new Dictionary<int, long>();
        for (var i = 0; i < save.Partitions.Length; i++)
        {
            var offset = save.Offsets[i];
            if (offset < 0)
            {
                // No offset reported (not expected after an acknowledged flush): nothing to check for it.
                continue;
            }

            lowest[save.Partitions[i]] = lowest.TryGetValue(save.Partitions[i], out var seen) ? Math.Min(seen, offset) : offset;
        }

        foreach (var (statePartition, first) in lowest.OrderBy(static l => l.Key))
        {
            var low = reader.QueryWatermarkOffsets(new TopicPartition(_topic, statePartition), ReadTimeout).Low.Value;
            if (low > first)
            {
                var per = (save.Length + _statePartitions - 1) / _statePartitions;
                return string.Create(CultureInfo.InvariantCulture, $"The state of {Prefix(save.Partition)} ({save.Length:N0} bytes in {save.Partitions.Length} chunks of Checkpoint:ChunkBytes={_chunkBytes:N0}) cannot be kept in {_topic}: partition {statePartition} already starts at offset {low}, past this save's chunk at offset {first}, so the broker keeps less per partition than the save puts there (about {per:N0} bytes before compression over {_statePartitions} partitions). The librdkafka mock cluster keeps 5 MiB per partition; a broker with retention.bytes on the topic keeps that much. Raise Repartition:StatePartitions (on a new state topic), the topic's retention.bytes, or use Checkpoint:Store=Directory. Offsets not committed; the previous saved state is kept.");
            }
        }

        return null;
    }

    /// <summary>Delivery reports run on the producer's poll thread: waits (up to the flush timeout) until the last one has run.</summary>
    private void WaitForReports()
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(_flushTimeoutMs);
        while (Volatile.Read(ref _awaitingReports) > 0 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(1);
        }
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

    /// <summary>Reads state partitions from their start to their high watermarks (together) into <paramref name="found"/>.</summary>
    private void Scan(List<TopicPartition> statePartitions, string prefix, Dictionary<long, Chunks> found)
    {
        var reader = Reader();
        var highs = new Dictionary<int, long>();
        var starts = new List<TopicPartitionOffset>();
        foreach (var statePartition in statePartitions)
        {
            var marks = reader.QueryWatermarkOffsets(statePartition, ReadTimeout);
            if (marks.High.Value > marks.Low.Value)
            {
                highs[statePartition.Partition.Value] = marks.High.Value;
                starts.Add(new TopicPartitionOffset(statePartition, marks.Low));
            }
        }

        if (starts.Count == 0)
        {
            return;
        }

        var deadline = DateTime.UtcNow + ReadTimeout;
        reader.Assign(starts);
        try
        {
            while (highs.Count > 0)
            {
                var result = reader.Consume(TimeSpan.FromMilliseconds(200));
                if (result is null)
                {
                    if (DateTime.UtcNow > deadline)
                    {
                        throw new KafkaException(new Error(ErrorCode.Local_TimedOut, string.Create(CultureInfo.InvariantCulture, $"Reading {_topic} partitions {string.Join(", ", highs.Keys)} back to their high watermarks took longer than {ReadTimeout.TotalSeconds} s.")));
                    }

                    continue;
                }

                if (!result.IsPartitionEOF)
                {
                    Apply(result.Message, result.Partition.Value, prefix, found);
                }

                if (highs.TryGetValue(result.Partition.Value, out var high) && result.Offset.Value >= high - 1)
                {
                    highs.Remove(result.Partition.Value);
                }
            }
        }
        finally
        {
            reader.Unassign();
        }
    }

    /// <summary>Adds one record of the state partition to <paramref name="found"/> when it belongs to <paramref name="prefix"/>.</summary>
    private static void Apply(Message<byte[]?, byte[]?> message, int statePartition, string prefix, Dictionary<long, Chunks> found)
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

        chunks.Add(generation, index, message.Value, statePartition);
    }

    /// <summary>Tombstones every chunk of the partition's garbage generations, each in the state partition it lives in.</summary>
    private void DeleteGarbage(TopicPartition partition, Generations known)
    {
        if (known.Garbage.Count == 0)
        {
            return;
        }

        var producer = Producer();
        foreach (var (generation, partitions) in known.Garbage)
        {
            for (var i = 0; i < partitions.Length; i++)
            {
                Produce(producer, new TopicPartition(_topic, partitions[i]), new Message<byte[]?, byte[]?> { Key = Key(partition, generation, i), Value = null }, save: null, index: 0);
            }
        }

        known.Garbage.Clear();
    }

    /// <summary>
    /// Produces one record, waiting while the local queue is full. A chunk of <paramref name="save"/>
    /// records its offset (and a failure) from its delivery report; a lost tombstone only leaves
    /// garbage the next read-back deletes again, so tombstones (null <paramref name="save"/>) report nothing.
    /// </summary>
    private void Produce(IProducer<byte[]?, byte[]?> producer, TopicPartition target, Message<byte[]?, byte[]?> message, Save? save, int index)
    {
        if (save is not null)
        {
            Interlocked.Increment(ref _awaitingReports);
        }

        while (true)
        {
            try
            {
                if (save is not null)
                {
                    producer.Produce(target, message, r =>
                    {
                        if (r.Error.IsError)
                        {
                            Interlocked.CompareExchange(ref _deliveryError, r.Error, null);
                        }
                        else
                        {
                            Volatile.Write(ref save.Offsets[index], r.Offset.Value);
                        }

                        Interlocked.Decrement(ref _awaitingReports);
                    });
                }
                else
                {
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
            // Each chunk's batch compressed on the wire and in the log (see the remarks), unless configured otherwise.
            config.CompressionType ??= CompressionType.Zstd;
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

    /// <summary>What is known of one input partition's generations in the topic: each with the state partition of every chunk.</summary>
    private sealed class Generations
    {
        public long Highest { get; set; }

        public (long Generation, int[] Partitions)? Current { get; set; }

        public List<(long Generation, int[] Partitions)> Garbage { get; } = [];
    }

    /// <summary>One written generation until its flush: where each chunk went, and at which offset the broker put it.</summary>
    private sealed record Save(TopicPartition Partition, long Generation, long Length, int[] Partitions, long[] Offsets);

    /// <summary>The chunk records of one generation seen while reading back.</summary>
    private sealed class Chunks
    {
        private readonly Dictionary<int, byte[]> _values = [];
        private readonly Dictionary<int, int> _where = [];
        private int _count = -1;
        private long _length = -1;
        private byte[]? _hash;
        private bool _inconsistent;

        /// <summary>Chunks the generation has (from its headers), or the highest index seen + 1.</summary>
        public int Count => _count > 0 ? _count : (_values.Count == 0 ? 0 : _values.Keys.Max() + 1);

        /// <summary>Chunks not (yet) tombstoned.</summary>
        public int Live => _values.Count;

        /// <summary>
        /// The state partition of each chunk up to the highest index read: where it was read, else
        /// where <paramref name="placement"/> puts it (bounded by the records read, not by a header's count).
        /// </summary>
        public int[] Locations(Func<int, int> placement)
        {
            var locations = new int[_where.Count == 0 ? 0 : _where.Keys.Max() + 1];
            for (var i = 0; i < locations.Length; i++)
            {
                locations[i] = _where.TryGetValue(i, out var seen) ? seen : placement(i);
            }

            return locations;
        }

        public void Add(long generation, int index, byte[]? value, int statePartition)
        {
            _where[index] = statePartition;
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
