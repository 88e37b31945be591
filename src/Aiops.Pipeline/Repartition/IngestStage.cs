using Aiops.Core;
using Aiops.Topology;

namespace Aiops.Pipeline.Repartition;

/// <summary>
/// Stage A of the repartitioned pipeline, one per input partition: pairs client and server spans
/// (spans are keyed by trace id, so a trace's spans are all here), folds them into this
/// partition's share of every RED bucket (<see cref="RedPartial"/>, sent when the bucket closes
/// here), collects the graph facts, and scores the resource metric points (keyed by resource, so a
/// series lives in one partition) with its <see cref="DetectionStage"/>. Every
/// <see cref="PipelineOptions.AdvanceIntervalMs"/> of event time it writes the closed partials, the
/// graph facts and a watermark.
/// </summary>
/// <remarks>
/// Hot path: <see cref="AddSpan"/> is the aggregator's <see cref="SpanAggregator.Observe"/> plus
/// the graph-fact bookkeeping (an array slot per node, a struct per edge and instance in
/// dictionaries cleared per tick): no allocation per span in steady state. SLOs are only counted
/// here: a counts-only <see cref="SloMonitor"/> sends this partition's good/total counts of each
/// closed bucket (<see cref="SloShareRecord"/>, keyed by the SLO's service) to the per-service
/// stage, which runs the burn-rate windows on the sums of every partition.
/// </remarks>
public sealed class IngestStage : IStageState
{
    private const uint StateMagic = 0x474E4941; // "AING"
    private const int StateVersion = 1;

    private readonly PipelineOptions _options;
    private readonly SpanAggregator _aggregator;
    private readonly SloMonitor? _slo;
    private readonly DetectionStage _detection;
    private readonly IStageSink _output;
    private readonly int _source;
    private readonly List<RedPartial> _partials = new(256);
    private readonly List<GraphFact> _facts = new(64);
    private readonly List<SloShare> _sloShares = [];
    private readonly MetricExemplarStore _metricExemplars = new();
    private long _spans;
    private long _rejected;
    private long _watermarkMs = long.MinValue;
    private long _nextTickMs = long.MinValue;

    /// <summary>
    /// Creates the stage of input partition <paramref name="source"/>; resource points are scored
    /// by <paramref name="detection"/>, whose verdicts must reach the same <paramref name="output"/>
    /// before this stage's watermarks.
    /// </summary>
    public IngestStage(PipelineOptions options, int source, DetectionStage detection, IStageSink output)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _source = source;
        _detection = detection ?? throw new ArgumentNullException(nameof(detection));
        _output = output ?? throw new ArgumentNullException(nameof(output));
        _aggregator = new SpanAggregator(options.StageTopology(), partials: true);

        // Resource verdicts are made here, so their metric exemplars are kept here; RED verdicts
        // (a per-service stage's lookup, already set when the stages share one detection stage) come after.
        var fallback = detection.Exemplars;
        detection.Exemplars = fallback is null ? _metricExemplars.TraceIdsNear : _metricExemplars.OrElse(fallback);
        if (options.Slo.Objectives.Count > 0)
        {
            _slo = new SloMonitor(options.StageSlo(), countsOnly: true);
        }
    }

    /// <summary>This stage's source id.</summary>
    public int Source => _source;

    /// <summary>Largest event time seen (Unix ms); <see cref="long.MinValue"/> before the first record.</summary>
    public long WatermarkMs => _watermarkMs;

    /// <summary>What the span aggregation did with this partition's spans.</summary>
    public TopologyCounters TopologyCounters => _aggregator.Counters;

    /// <summary>Spans taken.</summary>
    public long Spans => _spans;

    /// <summary>Records rejected as bad input here (including spans too far in the future).</summary>
    public long Rejected => _rejected + _aggregator.Counters.Future;

    /// <summary>Takes one span; a malformed one is counted and dropped (see <see cref="EventTimePipeline.AddSpan"/>).</summary>
    public bool AddSpan(in SpanRecord span)
    {
        if (string.IsNullOrEmpty(span.Service) || span.SpanId == 0 || span.TraceId == UInt128.Zero || span.EndUnixNanos < span.StartUnixNanos)
        {
            _rejected++;
            return false;
        }

        _spans++;
        _aggregator.Observe(span);
        _slo?.Observe(span);
        Advance(span.EndUnixNanos / 1_000_000);
        return true;
    }

    /// <summary>Scores one resource point; a NaN/Inf value or empty name is counted and dropped.</summary>
    public bool AddMetric(in MetricPoint point)
    {
        if (!double.IsFinite(point.Value) || string.IsNullOrEmpty(point.Series.Service) || string.IsNullOrEmpty(point.Series.Metric))
        {
            _rejected++;
            return false;
        }

        _detection.Detect(point, point.TimestampMs);
        Advance(point.TimestampMs);
        return true;
    }

    /// <summary>
    /// Keeps an exemplar of a resource metric (an OTLP data point's sampled trace) so a verdict on
    /// <paramref name="series"/> near <paramref name="timestampMs"/> carries its trace id (see
    /// <see cref="EventTimePipeline.AddExemplar"/>).
    /// </summary>
    public void AddExemplar(SeriesKey series, long timestampMs, UInt128 traceId) => _metricExemplars.Add(series, timestampMs, traceId);

    /// <summary>Moves the watermark without a record (an idle partition) and writes what is due.</summary>
    public void AdvanceTo(long eventTimeMs)
    {
        if (eventTimeMs > _watermarkMs)
        {
            _watermarkMs = eventTimeMs;
        }

        if (_watermarkMs != long.MinValue)
        {
            Tick();
        }
    }

    /// <summary>
    /// Writes the SLO part of this stage's open state: the counts of its open SLO buckets
    /// (<see cref="SloMonitor.SaveSection"/>; an empty section without SLOs). Separate from the
    /// rest of the stage's state so either can change alone; a stage checkpoint writes it after that.
    /// </summary>
    public void SaveSloState(BinaryWriter writer) => SloMonitor.SaveSection(writer, _slo);

    /// <summary>
    /// Reads what <see cref="SaveSloState"/> wrote, into a freshly built stage; a section saved
    /// under other SLO settings is skipped (see <see cref="SloMonitor.LoadSection"/>); a corrupt one
    /// throws <see cref="InvalidDataException"/>.
    /// </summary>
    public void LoadSloState(BinaryReader reader) => SloMonitor.LoadSection(reader, _slo);

    /// <summary>Restores the watermark and counters of a checkpoint.</summary>
    public void Restore(long watermarkMs, long spans, long rejected)
    {
        _watermarkMs = watermarkMs;
        _spans = spans;
        _rejected = rejected;
        _nextTickMs = long.MinValue;
    }

    /// <summary>
    /// Writes the stage's open state: its source, counters, watermark and next tick, the span
    /// aggregator's state (pending spans, open partial buckets, unsent graph facts, see
    /// <see cref="SpanAggregator.SaveState"/>) and the metric exemplars. The detection stage's
    /// registry is saved by <see cref="DetectionStage.Save"/>, not here.
    /// </summary>
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        StateFraming.WriteHeader(writer, StateMagic, StateVersion);
        writer.Write(_source);
        writer.Write(_spans);
        writer.Write(_rejected);
        writer.Write(_watermarkMs);
        writer.Write(_nextTickMs);
        _aggregator.SaveState(writer);
        _metricExemplars.SaveState(writer);

        SaveSloState(writer);
        StateFraming.WriteEnd(writer, StateMagic);
    }

    /// <summary>
    /// Loads what <see cref="SaveState"/> wrote into this freshly constructed stage (same options
    /// and source); throws <see cref="InvalidDataException"/> naming the section that is bad.
    /// </summary>
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        StateFraming.Read(reader, StateMagic, StateVersion, "ingest stage state", r =>
        {
            int source = r.ReadInt32();
            if (source != _source)
            {
                throw new InvalidDataException($"The ingest stage state is of source {source}; this stage is source {_source}.");
            }

            _spans = r.ReadInt64();
            _rejected = r.ReadInt64();
            _watermarkMs = r.ReadInt64();
            _nextTickMs = r.ReadInt64();
            _aggregator.LoadState(r);
            _metricExemplars.LoadState(r);

            LoadSloState(r);
        });
    }

    private void Advance(long eventTimeMs)
    {
        if (eventTimeMs <= _watermarkMs)
        {
            return;
        }

        _watermarkMs = eventTimeMs;
        if (_watermarkMs >= _nextTickMs)
        {
            Tick();
        }
    }

    private void Tick()
    {
        var interval = _options.AdvanceIntervalMs;
        _nextTickMs = _watermarkMs - (((_watermarkMs % interval) + interval) % interval) + interval;
        _partials.Clear();
        _aggregator.AdvanceToPartials(_watermarkMs, _partials);
        foreach (var partial in _partials)
        {
            _output.Write(new PartialRecord { Source = _source, TimeMs = partial.BucketStartMs, Partial = partial });
        }

        _facts.Clear();
        _aggregator.DrainGraphFacts(_facts);
        foreach (var fact in _facts)
        {
            _output.Write(new GraphFactRecord { Source = _source, TimeMs = Math.Max(fact.TimeMs, fact.FirstMs), Fact = fact });
        }

        if (_slo is not null)
        {
            // This partition's counts of the SLO buckets that closed; the windows run where the
            // service's shares meet (MergeStage), before this watermark reaches it.
            _sloShares.Clear();
            _slo.AdvanceTo(_watermarkMs, _sloShares);
            foreach (var share in _sloShares)
            {
                _output.Write(new SloShareRecord { Source = _source, TimeMs = share.BucketStartMs, Share = share });
            }
        }

        _output.Write(new WatermarkRecord { Source = _source, TimeMs = _watermarkMs });
    }
}
