namespace Aiops.Topology;

/// <summary>What a RED series aggregates; the scope of a <see cref="RedPartial"/>.</summary>
public enum RedPartialScope : byte
{
    /// <summary>The whole service (its server and consumer spans).</summary>
    Service = 0,

    /// <summary>One operation of the service.</summary>
    Operation = 1,

    /// <summary>One instance (replica) of the service.</summary>
    Instance = 2,

    /// <summary>A caller → callee edge; the service is the caller.</summary>
    Edge = 3,
}

/// <summary>
/// One input partition's share of one RED bucket of one series: request and error counts, the
/// latency sketch's bins and the exemplar trace ids. Partials of the same (series, bucket) from
/// different partitions merge exactly: counts add, sketch bins add (a DDSketch bin is a count per
/// log-spaced key, the same key mapping everywhere, so the merged quantiles equal those of one
/// sketch fed every span), the slowest exemplar is the maximum and the failed exemplars are the two
/// smallest failed trace ids, which depend on the set of spans and not on their order.
/// </summary>
/// <remarks>Built once per series and bucket when a partition closes the bucket (one per minute at
/// the default bucket width), never per span.</remarks>
public sealed class RedPartial
{
    /// <summary>The series' service (the caller for an edge).</summary>
    public required string Service { get; init; }

    /// <summary>What the series aggregates.</summary>
    public required RedPartialScope Scope { get; init; }

    /// <summary>Operation name, instance id or callee node; null for the service scope.</summary>
    public string? ScopeKey { get; init; }

    /// <summary>Start of the bucket (Unix ms, a multiple of the bucket width).</summary>
    public required long BucketStartMs { get; init; }

    /// <summary>Requests in the bucket.</summary>
    public long Count { get; init; }

    /// <summary>Failed requests in the bucket.</summary>
    public long Errors { get; init; }

    /// <summary>Latencies at or below the sketch's minimum (counted in the zero bin).</summary>
    public long ZeroCount { get; init; }

    /// <summary>Sketch keys with a non-zero count, ascending.</summary>
    public int[] BinKeys { get; init; } = [];

    /// <summary>Counts of <see cref="BinKeys"/>, same order.</summary>
    public int[] BinCounts { get; init; } = [];

    /// <summary>Sum of the sketched latencies (ms).</summary>
    public double Sum { get; init; }

    /// <summary>Largest sketched latency (ms).</summary>
    public double Max { get; init; }

    /// <summary>Trace id of the slowest request.</summary>
    public UInt128 SlowestTrace { get; init; }

    /// <summary>Duration of the slowest request (ms); -1 when none.</summary>
    public double SlowestMs { get; init; } = -1;

    /// <summary>Smallest failed trace id.</summary>
    public UInt128 FailedTrace0 { get; init; }

    /// <summary>Second smallest failed trace id.</summary>
    public UInt128 FailedTrace1 { get; init; }

    /// <summary>How many of the failed exemplars are set (0 to 2).</summary>
    public int FailedCount { get; init; }

    /// <summary>
    /// Writes the share in the binary layout of the repartition topic and of the checkpoints that
    /// hold pending shares (service, scope, key, bucket, counts, bins as key/count pairs, sum, max,
    /// exemplars), so both read it with <see cref="Read"/>.
    /// </summary>
    public void Write(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(Service);
        writer.Write((byte)Scope);
        StateFraming.WriteNullable(writer, ScopeKey);
        writer.Write(BucketStartMs);
        writer.Write(Count);
        writer.Write(Errors);
        writer.Write(ZeroCount);
        writer.Write(BinKeys.Length);
        for (int i = 0; i < BinKeys.Length; i++)
        {
            writer.Write(BinKeys[i]);
            writer.Write(BinCounts[i]);
        }

        writer.Write(Sum);
        writer.Write(Max);
        StateFraming.WriteId(writer, SlowestTrace);
        writer.Write(SlowestMs);
        StateFraming.WriteId(writer, FailedTrace0);
        StateFraming.WriteId(writer, FailedTrace1);
        writer.Write((byte)FailedCount);
    }

    /// <summary>Reads a share written by <see cref="Write"/>; throws <see cref="InvalidDataException"/> on an unknown scope or an impossible bin count.</summary>
    public static RedPartial Read(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        string service = reader.ReadString();
        byte scope = reader.ReadByte();
        if (scope > (byte)RedPartialScope.Edge)
        {
            throw new InvalidDataException($"Unknown RED partial scope {scope}.");
        }

        string? scopeKey = StateFraming.ReadNullable(reader);
        long bucket = reader.ReadInt64();
        long count = reader.ReadInt64();
        long errors = reader.ReadInt64();
        long zero = reader.ReadInt64();
        int bins = reader.ReadInt32();
        if (bins < 0 || bins > (reader.BaseStream.Length - reader.BaseStream.Position) / 8)
        {
            throw new InvalidDataException($"RED partial claims {bins} sketch bins.");
        }

        var keys = new int[bins];
        var counts = new int[bins];
        for (int i = 0; i < bins; i++)
        {
            keys[i] = reader.ReadInt32();
            counts[i] = reader.ReadInt32();
        }

        return new RedPartial
        {
            Service = service,
            Scope = (RedPartialScope)scope,
            ScopeKey = scopeKey,
            BucketStartMs = bucket,
            Count = count,
            Errors = errors,
            ZeroCount = zero,
            BinKeys = keys,
            BinCounts = counts,
            Sum = reader.ReadDouble(),
            Max = reader.ReadDouble(),
            SlowestTrace = StateFraming.ReadId(reader),
            SlowestMs = reader.ReadDouble(),
            FailedTrace0 = StateFraming.ReadId(reader),
            FailedTrace1 = StateFraming.ReadId(reader),
            FailedCount = reader.ReadByte(),
        };
    }
}
