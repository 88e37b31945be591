using System.Text;
using Aiops.Core;
using Aiops.Worker.Options;
using Aiops.Worker.Telemetry;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aiops.Worker.Processing;

/// <summary>
/// <c>Checkpoint:Scope = Partition</c>: one processor (one pipeline, its own detectors) per
/// assigned input partition, checkpointed on its own in an <see cref="IPartitionStateStore"/>:
/// the file <c>{Directory}/{group}/{topic}.{partition}.state</c> (<c>Store=Directory</c>) or
/// chunk records in the compacted state topic (<c>Store=Topic</c>). On assignment the partition's
/// state is loaded (with the offset it covers); on revocation the state is saved, and acknowledged,
/// before the offsets are committed, and then dropped. An instance taking over a partition from
/// another one continues with the same baselines instead of relearning them.
/// </summary>
/// <remarks>
/// A series belongs to one partition: metrics keyed by resource (the Collector exporter's
/// partitioning) keep a service's series together. Aggregates that need every partition (RED
/// series from spans keyed by trace id, the incident correlation across services) see only their
/// partition's share in this scope; giving them one owner needs repartition topics (open work).
/// Not thread-safe: the consume loop owns it.
/// </remarks>
internal sealed class PartitionStates : ITelemetryProcessor, IDisposable
{
    private const uint Magic = 0x54505741; // "AWPT"
    private const int Version = 1;

    private readonly Func<ITelemetryProcessor> _factory;
    private readonly WorkerMetrics _metrics;
    private readonly ILogger<PartitionStates> _logger;
    private readonly string _directory;
    private readonly IPartitionStateStore _store;
    private readonly Dictionary<TopicPartition, Entry> _entries = [];
    private readonly List<IncidentMessage> _drained = [];
    private readonly List<(TopicPartition Partition, Entry Entry, long Bytes)> _saved = [];

    /// <summary>One serialisation buffer for every save; it grows to the largest state and stays.</summary>
    private readonly MemoryStream _buffer = new();

    public PartitionStates(Func<ITelemetryProcessor> factory, IOptions<CheckpointOptions> options, IOptions<KafkaOptions> kafka, WorkerMetrics metrics, ILogger<PartitionStates> logger, IPartitionStateStore store)
    {
        _factory = factory;
        _metrics = metrics;
        _logger = logger;
        _store = store;
        _directory = DirectoryOf(options.Value, kafka.Value);
        Enabled = options.Value.Enabled;
    }

    /// <summary>The directory of the group's state files with <c>Store=Directory</c>.</summary>
    internal static string DirectoryOf(CheckpointOptions options, KafkaOptions kafka) =>
        Path.GetFullPath(Path.Combine(options.Directory, CheckpointPositions.SafeFileName(kafka.GroupId)));

    /// <summary>True when partition states are saved and restored (otherwise each assignment starts empty).</summary>
    public bool Enabled { get; }

    /// <summary>Partitions with a processor.</summary>
    public int Count => _entries.Count;

    /// <inheritdoc/>
    public long SeriesCount => _entries.Values.Sum(static e => e.Processor.SeriesCount);

    /// <inheritdoc/>
    public long EvictedSeries => _entries.Values.Sum(static e => e.Processor.EvictedSeries);

    /// <inheritdoc/>
    public long AnomalyCount => _entries.Values.Sum(static e => e.Processor.AnomalyCount);

    /// <summary>The state file of one partition with <c>Store=Directory</c>.</summary>
    public string PathOf(TopicPartition partition) => new DirectoryPartitionStore(_directory).PathOf(partition);

    /// <summary>
    /// Takes a partition on: loads its file when there is one and returns the offset its state
    /// covers (read from there), or null to start where the group committed.
    /// </summary>
    public long? Assign(TopicPartition partition, CheckpointPositions marks)
    {
        var processor = _factory();
        long? next = null;
        var saved = Enabled ? _store.Load(partition) : null;
        if (saved is not null)
        {
            var where = _store.Describe(partition);
            try
            {
                using var stream = new MemoryStream(saved, writable: false);
                next = ReadHeader(stream, marks);
                processor.RestoreState(stream);
                Log.CheckpointRestored(_logger, where, stream.Length);
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or EndOfStreamException or UnauthorizedAccessException or FormatException)
            {
                Log.CheckpointUnreadable(_logger, where, ex.Message);
                processor = _factory();
                next = null;
            }
        }

        _entries[partition] = new Entry(processor) { Next = next ?? -1 };
        return next;
    }

    /// <summary>The processor of an assigned partition (one created on the fly if the assignment callback was missed).</summary>
    public ITelemetryProcessor For(TopicPartition partition)
    {
        if (!_entries.TryGetValue(partition, out var entry))
        {
            entry = new Entry(_factory());
            _entries[partition] = entry;
        }

        return entry.Processor;
    }

    /// <summary>Records that the partition's state now covers every record before <paramref name="next"/>.</summary>
    public void Advance(TopicPartition partition, long next)
    {
        if (_entries.TryGetValue(partition, out var entry))
        {
            entry.Next = next;
            entry.Dirty = true;
        }
    }

    /// <summary>
    /// Saves every partition that processed records since its last save, with the incidents topic's
    /// marks, and waits until the store has them. False when the host is stopping before the store
    /// acknowledged them: the offsets they cover must then not be committed.
    /// </summary>
    public bool SaveDirty(CheckpointPositions marks)
    {
        if (!Enabled)
        {
            return true;
        }

        _saved.Clear();
        foreach (var (partition, entry) in _entries)
        {
            if (!entry.Dirty)
            {
                continue;
            }

            _buffer.SetLength(0);
            WriteHeader(_buffer, entry.Next, marks);
            entry.Processor.SaveState(_buffer);
            _store.Write(partition, _buffer.GetBuffer().AsSpan(0, (int)_buffer.Length));
            _saved.Add((partition, entry, _buffer.Length));
        }

        if (!_store.Flush())
        {
            _saved.Clear();
            return false;
        }

        foreach (var (partition, entry, bytes) in _saved)
        {
            entry.Dirty = false;
            _metrics.Checkpointed();
            Log.CheckpointWritten(_logger, _store.Describe(partition), bytes);
        }

        _saved.Clear();
        return true;
    }

    /// <summary>
    /// The state last saved for a partition, read back through the store as an assignment would
    /// read it: the offset it covers, its incident marks and the processor's snapshot bytes; null when none.
    /// </summary>
    internal (long Next, CheckpointPositions Marks, byte[] State)? ReadSaved(TopicPartition partition) =>
        _store.Load(partition) is { } saved ? Parse(saved) : null;

    /// <inheritdoc/>
    public void Dispose() => _buffer.Dispose();

    /// <summary>Forgets a partition (after its state was saved on revocation, or when it was lost).</summary>
    public void Drop(TopicPartition partition) => _entries.Remove(partition);

    /// <inheritdoc/>
    public void DrainIncidents(List<IncidentMessage> into)
    {
        foreach (var entry in _entries.Values)
        {
            entry.Processor.DrainIncidents(_drained);
        }

        into.AddRange(_drained);
        _drained.Clear();
    }

    /// <inheritdoc/>
    public void Process(IReadOnlyList<MetricPoint> points, IReadOnlyList<SpanRecord> spans) =>
        throw new InvalidOperationException("Records are processed by the partition's own processor (For).");

    /// <inheritdoc/>
    public void Process(IReadOnlyList<MetricPoint> points, IReadOnlyList<SpanRecord> spans, IReadOnlyList<Aiops.Ingestion.MetricExemplar> exemplars) => Process(points, spans);

    /// <inheritdoc/>
    public void SaveState(Stream destination) => throw new InvalidOperationException("Partition states are saved per partition (SaveDirty).");

    /// <inheritdoc/>
    public void RestoreState(Stream source) => throw new InvalidOperationException("Partition states are restored per partition (Assign).");

    /// <summary>Reads a partition state file: the offset it covers, the incident marks, and the processor's snapshot bytes.</summary>
    internal static (long Next, CheckpointPositions Marks, byte[] State) ReadFile(string path) => Parse(File.ReadAllBytes(path));

    /// <summary>Splits saved state bytes into the offset they cover, the incident marks and the processor's snapshot.</summary>
    private static (long Next, CheckpointPositions Marks, byte[] State) Parse(byte[] saved)
    {
        using var stream = new MemoryStream(saved, writable: false);
        var marks = new CheckpointPositions();
        var next = ReadHeader(stream, marks);
        return (next, marks, saved[(int)stream.Position..]);
    }

    private static void WriteHeader(Stream stream, long next, CheckpointPositions marks)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(Version);
        writer.Write(next);
        marks.WriteMarks(writer);
    }

    /// <summary>Reads the header; merges the file's incident marks into <paramref name="marks"/> (the lowest per partition wins).</summary>
    private static long ReadHeader(Stream stream, CheckpointPositions marks)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        if (reader.ReadUInt32() != Magic)
        {
            throw new InvalidDataException("Not a partition state file (magic).");
        }

        var version = reader.ReadInt32();
        if (version != Version)
        {
            throw new InvalidDataException($"Partition state version {version} is not supported (this build reads version {Version}).");
        }

        var next = reader.ReadInt64();
        marks.ReadMarks(reader);
        return next;
    }

    private sealed class Entry(ITelemetryProcessor processor)
    {
        public ITelemetryProcessor Processor { get; } = processor;

        public long Next { get; set; }

        public bool Dirty { get; set; }
    }
}
