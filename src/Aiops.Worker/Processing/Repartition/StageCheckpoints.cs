using System.Diagnostics;
using System.Text;
using Aiops.Pipeline.Repartition;
using Aiops.Worker.Telemetry;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Aiops.Worker.Processing.Repartition;

/// <summary>
/// <c>Repartition:Enabled</c> with <c>Checkpoint:Enabled</c>: the baselines of each assigned
/// partition's detection stage (an input partition's <see cref="IngestStage"/>, a RED partition's
/// <see cref="MergeStage"/>) with the offset of that partition they cover, kept in the
/// <see cref="IPartitionStateStore"/> of <c>Checkpoint:Store</c> under the partition's own name.
/// Saved at most every <c>Checkpoint:IntervalMs</c> and on revocation, and acknowledged by the
/// store before the offsets are committed; loaded on assignment, and the partition is then read
/// from the offset the state covers, so a moved partition keeps its baselines instead of relearning them.
/// </summary>
/// <remarks>
/// Format: magic <c>ARST</c>, version 2, covered offset, points and verdicts counted, the registry
/// snapshot, the episode gates (<see cref="DetectionStage.SaveState"/>), then the stage's open state (<see cref="IStageState"/>: an ingest stage's pending
/// spans, open partial buckets, unsent graph facts and exemplars; a merge stage's pending shares,
/// source watermarks and merged buckets), so a moved partition continues exactly where the state
/// stands. A version-1 state (baselines only) still loads, with empty open state. A stage whose
/// event time moved without a record (an idle input partition advanced) is saved again even
/// though its offset did not move. The verdicts partition (stage C) is saved under its own name:
/// magic <c>ARSC</c>, version 1, covered offset, the incidents topic's marks, then <see cref="CorrelationStage.SaveState"/> (held
/// verdicts, graph, open incidents), so an incident open when the partition moves gets its updates
/// and resolve from the new owner. Consume thread only.
/// </remarks>
internal sealed class StageCheckpoints : IDisposable
{
    private const uint Magic = 0x54535241; // "ARST"
    private const int Version = 2;

    /// <summary>The previous format: the baselines only.</summary>
    private const int BaselinesOnlyVersion = 1;

    private const uint CorrelationMagic = 0x43535241; // "ARSC"
    private const int CorrelationVersion = 1;

    private readonly IPartitionStateStore _store;
    private readonly WorkerMetrics _metrics;
    private readonly ILogger _logger;
    private readonly int _intervalMs;
    private readonly Stopwatch _sinceSave = new();
    private readonly Dictionary<TopicPartition, long> _covered = [];
    private readonly Dictionary<TopicPartition, long> _coveredEventTime = [];
    private readonly List<(TopicPartition Partition, long Next, long EventTime, long Bytes)> _written = [];
    private readonly List<(TopicPartition Partition, DetectionStage Detection)> _stages = [];

    /// <summary>One serialisation buffer for every save; it grows to the largest state and stays.</summary>
    private readonly MemoryStream _buffer = new();

    public StageCheckpoints(IPartitionStateStore store, int intervalMs, WorkerMetrics metrics, ILogger logger)
    {
        _store = store;
        _intervalMs = intervalMs;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>
    /// Loads the partition's saved baselines into <paramref name="detection"/> and its open state
    /// into <paramref name="state"/>, and returns the offset they cover (where to resume), or null
    /// when none (or unreadable: logged; the caller then starts the partition's stages afresh).
    /// </summary>
    public long? Load(TopicPartition partition, DetectionStage detection, IStageState? state) => Restore(partition, reader =>
    {
        if (reader.ReadUInt32() != Magic)
        {
            throw new InvalidDataException("Not a stage state (magic); written with another Checkpoint:Scope or without Repartition:Enabled?");
        }

        var version = reader.ReadInt32();
        if (version != Version && version != BaselinesOnlyVersion)
        {
            throw new InvalidDataException($"Stage state version {version} is not supported (this build reads versions {BaselinesOnlyVersion} and {Version}).");
        }

        var next = reader.ReadInt64();
        var points = reader.ReadInt64();
        var anomalies = reader.ReadInt64();
        detection.Load(reader.BaseStream, points, anomalies);
        if (version == Version)
        {
            detection.LoadState(reader);
            if (state is not null)
            {
                state.LoadState(reader);
                _coveredEventTime[partition] = state.WatermarkMs;
            }
        }

        return next;
    });

    /// <summary>
    /// Loads the verdicts partition's saved correlation stage (stage C: held verdicts, graph, the
    /// correlator's open incidents) into <paramref name="correlation"/> and returns the offset of
    /// the verdicts partition it covers, or null when none (or unreadable: logged, starts empty).
    /// <paramref name="incidentMarks"/> gets how far the incidents topic was written at the save,
    /// so the caller's <see cref="IncidentLedger"/> recognises the events a crashed owner wrote
    /// after it and the replayed verdicts produce again.
    /// </summary>
    public long? LoadCorrelation(TopicPartition partition, CorrelationStage correlation, CheckpointPositions incidentMarks) => Restore(partition, reader =>
    {
        long next = 0;
        Aiops.Topology.StateFraming.Read(reader, CorrelationMagic, CorrelationVersion, "correlation checkpoint", r =>
        {
            next = r.ReadInt64();
            incidentMarks.ReadMarks(r);
            correlation.LoadState(r);
        });
        return next;
    });

    /// <summary>
    /// Saves every stage whose partition was read past its last saved offset (when forced, or when
    /// <c>Checkpoint:IntervalMs</c> has passed) and waits until the store has them. False when the
    /// host is stopping before the store acknowledged them: the offsets must then not be committed.
    /// </summary>
    public bool SaveDue(RepartitionRouter router, IReadOnlyDictionary<TopicPartition, long> processed, bool force, Func<CheckpointPositions?> incidentMarks)
    {
        if (!force && _sinceSave.IsRunning && _sinceSave.ElapsedMilliseconds < _intervalMs)
        {
            return true;
        }

        _written.Clear();
        router.DetectionStages(_stages);
        foreach (var (partition, detection) in _stages)
        {
            var state = router.StateOf(partition);
            if (!processed.TryGetValue(partition, out var next)
                || (_covered.TryGetValue(partition, out var saved) && saved == next
                    && (state is null || (_coveredEventTime.TryGetValue(partition, out var savedTime) && savedTime == state.WatermarkMs))))
            {
                continue;
            }

            _buffer.SetLength(0);
            using (var writer = new BinaryWriter(_buffer, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(Magic);
                writer.Write(Version);
                writer.Write(next);
                writer.Write(detection.Points);
                writer.Write(detection.Anomalies);
            }

            detection.Save(_buffer);
            using (var writer = new BinaryWriter(_buffer, Encoding.UTF8, leaveOpen: true))
            {
                detection.SaveState(writer);
                state?.SaveState(writer);
            }

            _store.Write(partition, _buffer.GetBuffer().AsSpan(0, (int)_buffer.Length));
            _written.Add((partition, next, state?.WatermarkMs ?? long.MinValue, _buffer.Length));
        }

        _stages.Clear();
        WriteCorrelation(router, processed, incidentMarks);
        if (!_store.Flush())
        {
            _written.Clear();
            return false;
        }

        foreach (var (partition, next, eventTime, bytes) in _written)
        {
            _covered[partition] = next;
            _coveredEventTime[partition] = eventTime;
            _metrics.Checkpointed();
            Log.CheckpointWritten(_logger, _store.Describe(partition), bytes);
        }

        _written.Clear();
        _sinceSave.Restart();
        return true;
    }

    /// <summary>Forgets what was saved for partitions this instance no longer holds.</summary>
    public void Forget(IEnumerable<TopicPartition> partitions)
    {
        foreach (var p in partitions)
        {
            _covered.Remove(p);
            _coveredEventTime.Remove(p);
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _buffer.Dispose();

    /// <summary>
    /// Reads the partition's saved state through <paramref name="restore"/> (which returns the
    /// offset it covers) and remembers that offset; null when there is none, or when it is
    /// unreadable (logged).
    /// </summary>
    private long? Restore(TopicPartition partition, Func<BinaryReader, long> restore)
    {
        var saved = _store.Load(partition);
        if (saved is null)
        {
            return null;
        }

        var where = _store.Describe(partition);
        try
        {
            using var stream = new MemoryStream(saved, writable: false);
            using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
            var next = restore(reader);
            _covered[partition] = next;
            Log.CheckpointRestored(_logger, where, saved.Length);
            return next;
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or EndOfStreamException or FormatException)
        {
            Log.CheckpointUnreadable(_logger, where, ex.Message);
            return null;
        }
    }

    /// <summary>
    /// Stage C, when this instance holds the verdicts partition and read past its last save:
    /// magic <c>ARSC</c>, version, the covered offset, the incidents topic's marks, then
    /// <see cref="CorrelationStage.SaveState"/>. Its incident events were drained and acknowledged
    /// before this (the batch's close), so the state holds none pending; events an owner wrote
    /// after this save and before a crash are past the marks, read back by the next owner's
    /// <see cref="IncidentLedger"/> and not written twice.
    /// </summary>
    private void WriteCorrelation(RepartitionRouter router, IReadOnlyDictionary<TopicPartition, long> processed, Func<CheckpointPositions?> incidentMarks)
    {
        if (router.Correlation is not { } correlation
            || !processed.TryGetValue(router.VerdictsPartition, out var next)
            || (_covered.TryGetValue(router.VerdictsPartition, out var saved) && saved == next)
            || incidentMarks() is not { } marks)
        {
            // Nothing new, or the incidents topic's marks could not be read (the ledger logged
            // why): the previous save stands and is tried again at the next batch.
            return;
        }

        _buffer.SetLength(0);
        using (var writer = new BinaryWriter(_buffer, Encoding.UTF8, leaveOpen: true))
        {
            Aiops.Topology.StateFraming.WriteHeader(writer, CorrelationMagic, CorrelationVersion);
            writer.Write(next);
            marks.WriteMarks(writer);
            correlation.SaveState(writer);
            Aiops.Topology.StateFraming.WriteEnd(writer, CorrelationMagic);
        }

        _store.Write(router.VerdictsPartition, _buffer.GetBuffer().AsSpan(0, (int)_buffer.Length));
        _written.Add((router.VerdictsPartition, next, long.MinValue, _buffer.Length));
    }
}
