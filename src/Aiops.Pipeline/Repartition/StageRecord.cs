using Aiops.Core;
using Aiops.Topology;

namespace Aiops.Pipeline.Repartition;

/// <summary>
/// A record between the stages of the repartitioned pipeline (ingest → per-service → correlation).
/// Every record names the stage instance that wrote it (<see cref="Source"/>: an input partition for
/// the ingest stage, a partition of the RED topic for the per-service stage) and an event time
/// (<see cref="TimeMs"/>) that says when, in event time, the downstream stage must take it into
/// account, so the result does not depend on the order in which records of different sources arrive.
/// </summary>
public abstract record StageRecord
{
    /// <summary>The writing stage instance (see <see cref="StageSources"/>).</summary>
    public required int Source { get; init; }

    /// <summary>Event time of the record (Unix ms); its meaning per kind is on each record type.</summary>
    public required long TimeMs { get; init; }

    /// <summary>The service whose stage instance must see the record (the routing key of the RED topic); null for a watermark.</summary>
    public abstract string? RouteKey { get; }
}

/// <summary>
/// The writer's promise that it will send nothing more with an event time at or below
/// <see cref="StageRecord.TimeMs"/>: its watermark. Sent to every downstream partition, also by an
/// idle writer, because the downstream stage moves on only when all its sources have.
/// </summary>
public sealed record WatermarkRecord : StageRecord
{
    /// <inheritdoc/>
    public override string? RouteKey => null;
}

/// <summary>One input partition's share of a RED bucket; <see cref="StageRecord.TimeMs"/> is the bucket start.</summary>
public sealed record PartialRecord : StageRecord
{
    /// <summary>The share.</summary>
    public required RedPartial Partial { get; init; }

    /// <inheritdoc/>
    public override string? RouteKey => Partial.Service;
}

/// <summary>
/// A confirmed verdict for the correlator, with the exemplar trace ids of its bucket (the
/// correlation stage has no spans to look them up in). <see cref="StageRecord.TimeMs"/> is the
/// emission time: the event time at which the single-process pipeline forwarded it (a RED bucket's
/// close, a resource point's timestamp).
/// </summary>
public sealed record VerdictRecord : StageRecord
{
    /// <summary>The verdict.</summary>
    public required Anomaly Anomaly { get; init; }

    /// <summary>Exemplar trace ids of the verdict's series and bucket (may be empty).</summary>
    public IReadOnlyList<string> Exemplars { get; init; } = [];

    /// <inheritdoc/>
    public override string? RouteKey => Anomaly.Series.Service;
}

/// <summary>A series still beyond the band of its episode's first verdict at <see cref="PointMs"/> (see <see cref="IncidentCorrelator.Sustain"/>); <see cref="StageRecord.TimeMs"/> is the emission time.</summary>
public sealed record SustainRecord : StageRecord
{
    /// <summary>The series.</summary>
    public required SeriesKey Series { get; init; }

    /// <summary>Timestamp of the point that sustained it.</summary>
    public required long PointMs { get; init; }

    /// <inheritdoc/>
    public override string? RouteKey => Series.Service;
}

/// <summary>A change to the service graph; <see cref="StageRecord.TimeMs"/> is the fact's time.</summary>
public sealed record GraphFactRecord : StageRecord
{
    /// <summary>The fact.</summary>
    public required GraphFact Fact { get; init; }

    /// <inheritdoc/>
    public override string? RouteKey => Fact.Node;
}

/// <summary>
/// One input partition's good/total counts of one SLO in one closed bucket (see
/// <see cref="SloShare"/>), for the per-service stage that runs the SLO's windows on the sums;
/// <see cref="StageRecord.TimeMs"/> is the bucket start.
/// </summary>
public sealed record SloShareRecord : StageRecord
{
    /// <summary>The counts.</summary>
    public required SloShare Share { get; init; }

    /// <inheritdoc/>
    public override string? RouteKey => Share.Service;
}

/// <summary>Where a stage writes its records.</summary>
public interface IStageSink
{
    /// <summary>Takes one record; a watermark comes after the records it covers.</summary>
    void Write(StageRecord record);
}

/// <summary>Source ids: input partitions of the ingest stage and partitions of the RED topic must not collide at the correlation stage.</summary>
public static class StageSources
{
    /// <summary>Source id of input partition <paramref name="partition"/> of input topic number <paramref name="topic"/> (0 spans, 1 metrics).</summary>
    public static int Ingest(int topic, int partition) => (topic << 20) | partition;

    /// <summary>Source id of the per-service stage of RED partition <paramref name="partition"/>.</summary>
    public static int Merge(int partition) => (1 << 28) | partition;

    /// <summary>
    /// The RED partition of <paramref name="service"/> among <paramref name="partitions"/>: FNV-1a of
    /// the UTF-16 code units, stable across processes (string.GetHashCode is randomised per process).
    /// </summary>
    public static int PartitionOf(string service, int partitions)
    {
        ArgumentNullException.ThrowIfNull(service);
        uint hash = 2166136261;
        foreach (char c in service)
        {
            hash = (hash ^ c) * 16777619;
        }

        return (int)(hash % (uint)partitions);
    }
}
