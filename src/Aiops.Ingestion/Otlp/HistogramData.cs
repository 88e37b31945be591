namespace Aiops.Ingestion.Otlp;

/// <summary>OTLP <c>AggregationTemporality</c> (metrics.proto numbering).</summary>
internal enum Temporality
{
    Unspecified = 0,
    Delta = 1,
    Cumulative = 2,
}

/// <summary>One exemplar read from a data point, before its series is known.</summary>
internal struct ExemplarData
{
    public long TimeNanos;
    public double Value;
    public UInt128 TraceId;
    public ulong SpanId;
}

/// <summary>
/// Reusable scratch for one histogram or exponential-histogram data point, filled by a wire
/// decoder (protobuf or JSON) and read by <see cref="MetricMapper"/>. Arrays grow on demand up to
/// <see cref="MaxBuckets"/> and are never shrunk, so steady-state decoding allocates nothing.
/// </summary>
internal sealed class HistogramData
{
    /// <summary>
    /// Most buckets accepted per point: 4,096. OpenTelemetry SDKs default to 160 exponential buckets
    /// and a few dozen explicit ones; more is a malformed or hostile point.
    /// </summary>
    public const int MaxBuckets = 4096;

    public long StartNanos;
    public long TimeNanos;
    public ulong Count;
    public double Sum;
    public double Min;
    public double Max;

    public double[] Bounds = new double[32];
    public int BoundCount;
    public ulong[] Counts = new ulong[33];
    public int CountCount;

    public int Scale;
    public ulong ZeroCount;
    public int PositiveOffset;
    public ulong[] Positive = new ulong[160];
    public int PositiveCount;
    public int NegativeOffset;
    public ulong[] Negative = new ulong[16];
    public int NegativeCount;

    public void Reset()
    {
        StartNanos = TimeNanos = 0;
        Count = 0;
        Sum = 0;
        Min = Max = double.NaN;
        BoundCount = CountCount = PositiveCount = NegativeCount = 0;
        Scale = 0;
        ZeroCount = 0;
        PositiveOffset = NegativeOffset = 0;
    }

    public bool AddBound(double value) => Append(ref Bounds, ref BoundCount, value);

    public bool AddCount(ulong value) => Append(ref Counts, ref CountCount, value);

    public bool AddPositive(ulong value) => Append(ref Positive, ref PositiveCount, value);

    public bool AddNegative(ulong value) => Append(ref Negative, ref NegativeCount, value);

    private static bool Append<T>(ref T[] array, ref int count, T value)
    {
        if (count == array.Length)
        {
            if (count >= MaxBuckets)
            {
                return false;
            }

            Array.Resize(ref array, Math.Min(MaxBuckets, array.Length * 2));
        }

        array[count++] = value;
        return true;
    }
}
