using System.Diagnostics;
using System.Text;
using Aiops.Worker.Options;
using Aiops.Worker.Telemetry;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aiops.Worker.Processing;

/// <summary>
/// Where a checkpointed state stands: the next input offset of every partition the state has
/// processed, and how far the incidents topic was written when the state was saved.
/// </summary>
internal sealed class CheckpointPositions
{
    /// <summary>Next offset to read per input partition: the state covers every record before it.</summary>
    public Dictionary<TopicPartition, long> Inputs { get; } = [];

    /// <summary>The incidents topic the marks belong to.</summary>
    public string IncidentsTopic { get; set; } = "";

    /// <summary>High watermark per incidents-topic partition at the save, after the incidents of the state were acknowledged.</summary>
    public Dictionary<int, long> IncidentMarks { get; } = [];

    /// <summary>Writes <see cref="IncidentsTopic"/> and <see cref="IncidentMarks"/>.</summary>
    public void WriteMarks(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(IncidentsTopic);
        writer.Write(IncidentMarks.Count);
        foreach (var (partition, offset) in IncidentMarks)
        {
            writer.Write(partition);
            writer.Write(offset);
        }
    }

    /// <summary>Reads what <see cref="WriteMarks"/> wrote; a partition already known keeps the lower mark (read back from the oldest state).</summary>
    public void ReadMarks(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        IncidentsTopic = reader.ReadString();
        var count = reader.ReadInt32();
        for (var i = 0; i < count; i++)
        {
            var partition = reader.ReadInt32();
            var offset = reader.ReadInt64();
            IncidentMarks[partition] = IncidentMarks.TryGetValue(partition, out var known) ? Math.Min(known, offset) : offset;
        }
    }

    /// <summary>A group or topic name as a file name: letters, digits, '-', '_' and '.' kept, anything else '_'.</summary>
    public static string SafeFileName(string name) =>
        string.Concat(name.Select(static c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
}

/// <summary>
/// Saves the processor's state to <c>{Directory}/{groupId}.state</c> at a commit and loads it at
/// start and when partitions are assigned. The file is written to a temporary name and renamed,
/// so a crash mid-write leaves the previous checkpoint intact.
/// </summary>
/// <remarks>
/// <para>Format: magic <c>AWCK</c>, version 1, the <see cref="CheckpointPositions"/> (input offsets,
/// incidents topic and its marks), then the processor's own snapshot. The offsets make the state
/// and the records it covers one unit: after a restart the worker reads each partition from the
/// checkpoint's offset, not from the group's committed one, so no record is counted twice by the
/// detectors and none is skipped, whichever of the two (checkpoint, commit) a crash interrupted.</para>
/// <para>A file without the header (written before the format had one) is read as a bare snapshot.</para>
/// </remarks>
internal sealed class StateCheckpointer
{
    private const uint Magic = 0x4B435741; // "AWCK"
    private const int Version = 1;

    private readonly CheckpointOptions _options;
    private readonly ITelemetryProcessor _processor;
    private readonly WorkerMetrics _metrics;
    private readonly ILogger<StateCheckpointer> _logger;
    private readonly string _path;
    private readonly Stopwatch _sinceLast = new();
    private DateTime _loadedOrWrittenUtc = DateTime.MinValue;

    public StateCheckpointer(IOptions<CheckpointOptions> options, IOptions<KafkaOptions> kafka, ITelemetryProcessor processor, WorkerMetrics metrics, ILogger<StateCheckpointer> logger)
    {
        _options = options.Value;
        _processor = processor;
        _metrics = metrics;
        _logger = logger;
        _path = Path.GetFullPath(Path.Combine(_options.Directory, CheckpointPositions.SafeFileName(kafka.Value.GroupId) + ".state"));
    }

    /// <summary>Full path of the state file.</summary>
    public string StatePath => _path;

    /// <summary>True when checkpoints are taken at all.</summary>
    public bool Enabled => _options.Enabled;

    /// <summary>
    /// Loads the state file when it exists and is newer than what this process last loaded or wrote
    /// (another instance of the group wrote it, or this is the start). Returns the positions it
    /// covers, or null when nothing was loaded.
    /// </summary>
    public CheckpointPositions? RestoreIfNewer()
    {
        if (!_options.Enabled || !File.Exists(_path))
        {
            return null;
        }

        var written = File.GetLastWriteTimeUtc(_path);
        if (written <= _loadedOrWrittenUtc)
        {
            return null;
        }

        try
        {
            using var stream = File.OpenRead(_path);
            var positions = ReadHeader(stream);
            _processor.RestoreState(stream);
            _loadedOrWrittenUtc = written;
            Log.CheckpointRestored(_logger, _path, stream.Length);
            return positions;
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or FormatException or EndOfStreamException or UnauthorizedAccessException or NotSupportedException or System.Text.Json.JsonException)
        {
            Log.CheckpointUnreadable(_logger, _path, ex.Message);
            return null;
        }
    }

    /// <summary>True when a checkpoint should be written now: <paramref name="force"/>, or the interval has passed.</summary>
    public bool IsDue(bool force) =>
        _options.Enabled && (force || !_sinceLast.IsRunning || _sinceLast.ElapsedMilliseconds >= _options.IntervalMs);

    /// <summary>Writes the state with the positions it covers.</summary>
    public void Save(CheckpointPositions positions)
    {
        ArgumentNullException.ThrowIfNull(positions);
        if (!_options.Enabled)
        {
            return;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        var temporary = _path + ".tmp";
        long length;
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            WriteHeader(stream, positions);
            _processor.SaveState(stream);
            length = stream.Length;
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, _path, overwrite: true);
        _loadedOrWrittenUtc = File.GetLastWriteTimeUtc(_path);
        _sinceLast.Restart();
        _metrics.Checkpointed();
        Log.CheckpointWritten(_logger, _path, length);
    }

    private static void WriteHeader(Stream stream, CheckpointPositions positions)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(Version);
        writer.Write(positions.Inputs.Count);
        foreach (var (partition, offset) in positions.Inputs)
        {
            writer.Write(partition.Topic);
            writer.Write(partition.Partition.Value);
            writer.Write(offset);
        }

        positions.WriteMarks(writer);
    }

    private static CheckpointPositions ReadHeader(Stream stream)
    {
        var positions = new CheckpointPositions();
        var start = stream.Position;
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        if (stream.Length - start < 8 || reader.ReadUInt32() != Magic)
        {
            // A bare processor snapshot from before the header existed: no positions.
            stream.Position = start;
            return positions;
        }

        var version = reader.ReadInt32();
        if (version != Version)
        {
            throw new InvalidDataException($"Checkpoint version {version} is not supported (this build reads version {Version}).");
        }

        var inputs = reader.ReadInt32();
        for (var i = 0; i < inputs; i++)
        {
            var topic = reader.ReadString();
            var partition = reader.ReadInt32();
            positions.Inputs[new TopicPartition(topic, partition)] = reader.ReadInt64();
        }

        positions.ReadMarks(reader);
        return positions;
    }
}
