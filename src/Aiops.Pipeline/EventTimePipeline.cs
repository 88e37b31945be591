using Aiops.Core;
using Aiops.Detection;
using Aiops.Pipeline.Repartition;
using Aiops.Topology;

namespace Aiops.Pipeline;

/// <summary>
/// The one pipeline the worker, the replay command and the evaluation drive: spans and resource
/// metric points go in, in event time; incident events (open / update / resolve) come out.
/// </summary>
/// <remarks>
/// <para>Flow: spans → topology's <see cref="SpanAggregator"/> (RED buckets per service, edge,
/// replica, operation + the service graph) → the selected RED series' points (see
/// <see cref="PipelineOptions.ServiceMetrics"/> and siblings) and the resource points →
/// detection's <see cref="DetectorRegistry"/> (one <see cref="SeriesDetector"/> per series) →
/// <see cref="Anomaly"/> verdicts → topology's <see cref="IncidentCorrelator"/> (grouping on the
/// graph, RCA ranking, remediation hints) → <see cref="IncidentEvent"/>s. Spans also feed the
/// <see cref="SloMonitor"/> of the configured SLOs (<see cref="PipelineOptions.Slo"/>), whose
/// burn-rate alerts reach the correlator as symptom signals.</para>
/// <para>No I/O, no wall clock: the watermark is the largest event time seen (a span's end, a
/// point's timestamp); every <see cref="PipelineOptions.AdvanceIntervalMs"/> of it, the buckets
/// older than one bucket plus <see cref="PipelineOptions.AllowedLatenessMs"/> close and the
/// correlator's clock moves. Not thread-safe: one pipeline per consumer thread.</para>
/// <para>Composition: the three stages of the repartitioned worker (see docs/worker.md,
/// "Repartitioning") wired in process, one of each: <see cref="IngestStage"/> (pairing, partial
/// RED buckets, graph facts, resource detection) → <see cref="MergeStage"/> (merged buckets, RED
/// detection) → <see cref="CorrelationStage"/> (graph, correlator, RCA). The records pass by
/// reference here (no codec); <see cref="RepartitionedPipeline"/> runs the same stages with several
/// ingest and per-service partitions and the binary codec in between. One
/// <see cref="DetectionStage"/> serves the resource and the RED points, so the registry, the
/// series cap and the checkpoint are those of one pipeline.</para>
/// </remarks>
public sealed class EventTimePipeline
{
    private const uint SnapshotMagic = 0x50495041; // "APIP"
    private const int SnapshotVersion = 3;

    /// <summary>The previous format: header and registry only (see <see cref="RestoreSnapshot"/>).</summary>
    private const int BaselinesOnlyVersion = 2;

    private readonly PipelineOptions _options;
    // Not readonly: a snapshot is restored into freshly built stages (see RestoreSnapshot).
    private DetectionStage _detection;
    private IngestStage _ingest;
    private MergeStage _merge;
    private CorrelationStage _correlation;

    /// <summary>Creates a pipeline; throws <see cref="ArgumentOutOfRangeException"/> naming an option out of range.</summary>
    public EventTimePipeline(PipelineOptions? options = null)
    {
        _options = options ?? new PipelineOptions();
        _options.Validate();
        Build();
    }

    [System.Diagnostics.CodeAnalysis.MemberNotNull(nameof(_correlation), nameof(_detection), nameof(_merge), nameof(_ingest))]
    private void Build()
    {
        _correlation = new CorrelationStage(_options, sources: 1);
        _detection = new DetectionStage(_options, _correlation, StageSources.Merge(0));
        _merge = new MergeStage(_options, StageSources.Merge(0), sources: 1, _detection, _correlation);
        _ingest = new IngestStage(_options, StageSources.Ingest(0, 0), _detection, _merge);
    }

    /// <summary>The options the pipeline runs with.</summary>
    public PipelineOptions Options => _options;

    /// <summary>Largest event time seen (Unix ms); <see cref="long.MinValue"/> before the first record.</summary>
    public long WatermarkMs => _ingest.WatermarkMs;

    /// <summary>The service graph built from the spans so far (for reports and the demo).</summary>
    public ServiceGraph Graph => _correlation.Graph;

    /// <summary>What the span aggregation did with the spans (paired, virtual, late, unpaired).</summary>
    public TopologyCounters TopologyCounters => _ingest.TopologyCounters;

    /// <summary>The detectors, per series (for reports: baselines and bands).</summary>
    public DetectorRegistry Detectors => _detection.Detectors;

    /// <summary>
    /// Optional observer of every point the detectors score, with its result (baseline, band,
    /// p-value, score): the replay report plots the flagged series from it. Null by default, so the
    /// worker's hot path pays one null check per point.
    /// </summary>
    public Action<MetricPoint, DetectionResult>? DetectionObserver
    {
        get => _detection.DetectionObserver;
        set => _detection.DetectionObserver = value;
    }

    /// <summary>Error-ratio verdicts held back because their bucket had fewer than <see cref="PipelineOptions.MinErrorsPerBucket"/> failures.</summary>
    public long SuppressedAnomalies => _detection.SuppressedAnomalies;

    /// <summary>
    /// Optional diagnostic callback: every verdict with its fate (forwarded, held, below a floor)
    /// and every latency point skipped by the request floor. Null (the default) costs one branch.
    /// </summary>
    public Action<PipelineTrace>? Trace
    {
        get => _detection.Trace;
        set => _detection.Trace = value;
    }

    /// <summary>Running totals.</summary>
    public PipelineCounters Counters => new(
        _ingest.Spans,
        _detection.Points,
        _detection.Detectors.Count,
        _detection.Anomalies,
        _correlation.Incidents,
        _ingest.Rejected + _detection.Detectors.RejectedNewSeries);

    /// <summary>
    /// Feeds one span. Bad spans (empty service, zero trace or span id, end before start) are
    /// counted in <see cref="PipelineCounters.Rejected"/> and dropped, never thrown.
    /// </summary>
    /// <returns>False when the span was rejected.</returns>
    public bool AddSpan(in SpanRecord span) => _ingest.AddSpan(span);

    /// <summary>
    /// Feeds one resource metric point (CPU, memory, queue depth …) straight to its series'
    /// detector. NaN/Inf values and empty service or metric names are counted and dropped.
    /// </summary>
    /// <returns>False when the point was rejected.</returns>
    public bool AddMetric(in MetricPoint point) => _ingest.AddMetric(point);

    /// <summary>
    /// Keeps an exemplar of a resource metric (an OTLP data point's sampled trace) so a verdict on
    /// <paramref name="series"/> near <paramref name="timestampMs"/> carries its trace id. Feed a
    /// record's exemplars before its points. The last few per series are kept (<see cref="MetricExemplarStore"/>).
    /// </summary>
    public void AddExemplar(SeriesKey series, long timestampMs, UInt128 traceId) => _ingest.AddExemplar(series, timestampMs, traceId);

    /// <summary>
    /// Moves the watermark forward without a record (e.g. an idle partition), closing every bucket
    /// that ended more than the allowed lateness before <paramref name="eventTimeMs"/>.
    /// </summary>
    public void AdvanceTo(long eventTimeMs) => _ingest.AdvanceTo(eventTimeMs);

    /// <summary>
    /// End of input: closes every bucket still open (as if the allowed lateness had passed) and
    /// lets the correlator open what is due; incidents still showing symptoms stay open.
    /// </summary>
    public void Flush()
    {
        if (_ingest.WatermarkMs == long.MinValue)
        {
            return;
        }

        AdvanceTo(_ingest.WatermarkMs + _options.BucketMs + _options.AllowedLatenessMs + _options.Correlator.OpenDelayMs);
    }

    /// <summary>Returns the incident events produced since the last call, oldest first.</summary>
    public IReadOnlyList<IncidentEvent> TakeEvents() => _correlation.TakeEvents();

    /// <summary>
    /// Writes the pipeline's checkpoint (version 3): a header (magic "APIP", version, watermark,
    /// counters), detection's registry snapshot (every series' baseline and detector state), then
    /// the open state of the ingest stage (spans waiting for their partner, open RED buckets, graph
    /// facts not yet sent, metric exemplars; see <see cref="IngestStage.SaveState"/>), of the
    /// merge stage (shares held for buckets not yet due, merged buckets' windows and exemplars; see
    /// <see cref="MergeStage.SaveState"/>), the episode gates (<see cref="DetectionStage.SaveState"/>)
    /// and the correlation stage (<see cref="CorrelationStage.SaveState"/>: held verdicts, the graph,
    /// the correlator's open incidents). Restored and fed the records after the checkpoint, the
    /// pipeline scores exactly the points an undisturbed one scores and gives the same incident
    /// events: nothing is relearned or rescored, and an incident open at the checkpoint gets its
    /// later updates and resolve.
    /// </summary>
    public void WriteSnapshot(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var counters = Counters;
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(SnapshotMagic);
            writer.Write(SnapshotVersion);
            writer.Write(_ingest.WatermarkMs);
            writer.Write(counters.Spans);
            writer.Write(counters.Points);
            writer.Write(counters.Anomalies);
            writer.Write(counters.Incidents);
            writer.Write(_ingest.Rejected);
        }

        _detection.Save(stream);
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            _ingest.SaveState(writer);
            _merge.SaveState(writer);
            _detection.SaveState(writer);
            _correlation.SaveState(writer);
        }
    }

    /// <summary>
    /// Replaces the pipeline's state with one written by <see cref="WriteSnapshot"/> (a running
    /// pipeline too: the worker restores a newer checkpoint another instance wrote); throws
    /// <see cref="InvalidDataException"/> naming the bad section, and then keeps its own state. A version-2 snapshot (the
    /// previous format, baselines only) still loads: its baselines and counters are restored and
    /// the open state starts empty, as it did with that format.
    /// </summary>
    public void RestoreSnapshot(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        long watermark, spans, points, anomalies, incidents, rejected;
        int version;
        using (var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            try
            {
                var magic = reader.ReadUInt32();
                if (magic != SnapshotMagic)
                {
                    throw new InvalidDataException($"Not a pipeline snapshot: magic 0x{magic:X8}, expected 0x{SnapshotMagic:X8}.");
                }

                version = reader.ReadInt32();
                if (version != SnapshotVersion && version != BaselinesOnlyVersion)
                {
                    throw new InvalidDataException($"Pipeline snapshot version {version} is not supported (this build reads {BaselinesOnlyVersion} and {SnapshotVersion}).");
                }

                watermark = reader.ReadInt64();
                spans = reader.ReadInt64();
                points = reader.ReadInt64();
                anomalies = reader.ReadInt64();
                incidents = reader.ReadInt64();
                rejected = reader.ReadInt64();
            }
            catch (EndOfStreamException e)
            {
                throw new InvalidDataException("Pipeline snapshot is truncated.", e);
            }
        }

        // The snapshot replaces the whole state: it is loaded into fresh stages (the open state
        // loads only into those), and the running ones are kept if it turns out to be bad.
        var running = (_detection, _ingest, _merge, _correlation);
        var (observer, trace) = (_detection.DetectionObserver, _detection.Trace);
        Build();
        _detection.DetectionObserver = observer;
        _detection.Trace = trace;
        try
        {
            _detection.Load(stream, points, anomalies);
            if (version == BaselinesOnlyVersion)
            {
                _ingest.Restore(watermark, spans, rejected);
            }
            else
            {
                using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
                _ingest.LoadState(reader);
                _merge.LoadState(reader);
                _detection.LoadState(reader);
                _correlation.LoadState(reader);
            }

            _correlation.Restore(incidents);
        }
        catch
        {
            (_detection, _ingest, _merge, _correlation) = running;
            throw;
        }
    }
}
