using System.Diagnostics;
using Aiops.Worker.Options;
using Aiops.Worker.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aiops.Worker.Processing;

/// <summary>
/// Saves the processor's state to <c>{Directory}/{groupId}.state</c> at a commit and loads it at
/// start and when partitions are assigned. The file is written to a temporary name and renamed,
/// so a crash mid-write leaves the previous checkpoint intact. The state is taken only right
/// before an offset commit, so the saved state and the committed offsets describe the same
/// records: after a restart the worker re-reads exactly what the state has not seen.
/// </summary>
internal sealed class StateCheckpointer
{
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
        var safeGroup = string.Concat(kafka.Value.GroupId.Select(static c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
        _path = Path.GetFullPath(Path.Combine(_options.Directory, safeGroup + ".state"));
    }

    /// <summary>Full path of the state file.</summary>
    public string StatePath => _path;

    /// <summary>
    /// Loads the state file when it exists and is newer than what this process last loaded or wrote
    /// (another instance of the group wrote it, or this is the start). Returns whether it loaded.
    /// </summary>
    public bool RestoreIfNewer()
    {
        if (!_options.Enabled || !File.Exists(_path))
        {
            return false;
        }

        var written = File.GetLastWriteTimeUtc(_path);
        if (written <= _loadedOrWrittenUtc)
        {
            return false;
        }

        try
        {
            using var stream = File.OpenRead(_path);
            _processor.RestoreState(stream);
            _loadedOrWrittenUtc = written;
            Log.CheckpointRestored(_logger, _path, stream.Length);
            return true;
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or FormatException or EndOfStreamException or UnauthorizedAccessException or NotSupportedException or System.Text.Json.JsonException)
        {
            Log.CheckpointUnreadable(_logger, _path, ex.Message);
            return false;
        }
    }

    /// <summary>Writes the state when <paramref name="force"/> or when the interval has passed.</summary>
    public void SaveIfDue(bool force)
    {
        if (!_options.Enabled)
        {
            return;
        }

        if (!force && _sinceLast.IsRunning && _sinceLast.ElapsedMilliseconds < _options.IntervalMs)
        {
            return;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        var temporary = _path + ".tmp";
        long length;
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
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
}
