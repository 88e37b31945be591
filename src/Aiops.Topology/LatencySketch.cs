namespace Aiops.Topology;

/// <summary>
/// A mergeable quantile sketch with a relative-error guarantee, after Masson, Rim and Lee,
/// "DDSketch: A Fast and Fully-Mergeable Quantile Sketch with Relative-Error Guarantees"
/// (PVLDB 12(12), 2019). A positive value x goes to bucket <c>i = ceil(log_γ x)</c> with
/// <c>γ = (1 + α) / (1 − α)</c> (their eq. 1 and §2.1); bucket i covers (γ^(i−1), γ^i] and is
/// reported as <c>2γ^i / (γ + 1)</c>, which is within a relative error α of every value in it
/// (their Proposition 3). Two sketches with the same α merge by adding bucket counts, so an
/// edge's or a service's latency over many buckets is exact in the same bound.
/// </summary>
/// <remarks>
/// With α = 1% (the default) and values clamped to [1 µs, 10⁷ ms] there are at most
/// ln(10¹⁰) / ln(γ) ≈ 1,152 buckets; the dense store only spans the indices actually seen (a
/// service's latencies usually cover two or three decades, ≈ 230–350 buckets, 1–1.4 KB), and
/// <see cref="Clear"/> keeps the array, so a sketch reused for the next time bucket allocates
/// nothing. Values at or below <see cref="MinValue"/> (including 0) are counted in a zero bucket
/// and reported as 0.
/// </remarks>
internal sealed class LatencySketch
{
    /// <summary>Smallest value tracked with the relative guarantee (1 µs when values are in ms).</summary>
    public const double MinValue = 1e-3;

    /// <summary>Largest value tracked (10⁷ ms ≈ 2.8 h); larger values are clamped to it.</summary>
    public const double MaxValue = 1e7;

    private const int InitialBins = 64;

    private readonly double _gamma;
    private readonly double _inverseLogGamma;
    private int[] _bins;
    private int _offset;   // bucket index of _bins[0]
    private int _minIndex; // smallest non-empty index (valid when _nonZeroCount > 0)
    private int _maxIndex;
    private long _nonZeroCount;
    private long _zeroCount;
    private double _sum;
    private double _max;

    /// <summary>Creates an empty sketch.</summary>
    /// <param name="relativeAccuracy">α in (0, 1): the largest relative error of a reported quantile.</param>
    public LatencySketch(double relativeAccuracy = 0.01)
    {
        if (!(relativeAccuracy > 0 && relativeAccuracy < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(relativeAccuracy), relativeAccuracy, "The relative accuracy must be in (0, 1).");
        }

        RelativeAccuracy = relativeAccuracy;
        _gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy);
        _inverseLogGamma = 1.0 / Math.Log(_gamma);
        _bins = new int[InitialBins];
    }

    /// <summary>The relative accuracy α this sketch guarantees.</summary>
    public double RelativeAccuracy { get; }

    /// <summary>Number of values added.</summary>
    public long Count => _nonZeroCount + _zeroCount;

    /// <summary>Sum of the values added (after clamping), for a mean.</summary>
    public double Sum => _sum;

    /// <summary>Largest value added (after clamping); 0 when empty.</summary>
    public double Max => _max;

    /// <summary>Number of buckets currently allocated (for memory accounting).</summary>
    public int AllocatedBins => _bins.Length;

    /// <summary>The inverse of ln γ, for <see cref="KeyOf(double, double)"/>.</summary>
    public double InverseLogGamma => _inverseLogGamma;

    /// <summary>
    /// The bucket key of <paramref name="value"/> for a sketch with the given 1 / ln γ, so a
    /// value added to several sketches of the same α (service, operation, instance) is logged once.
    /// <see cref="ZeroKey"/> for values at or below <see cref="MinValue"/>.
    /// </summary>
    public static int KeyOf(double value, double inverseLogGamma)
    {
        if (!(value > MinValue))
        {
            return ZeroKey;
        }

        return (int)Math.Ceiling(Math.Log(Math.Min(value, MaxValue)) * inverseLogGamma);
    }

    /// <summary>Key of the zero bucket.</summary>
    public const int ZeroKey = int.MinValue;

    /// <summary>Adds one value. Negative values and NaN count as zero.</summary>
    public void Add(double value) => Add(value, KeyOf(value, _inverseLogGamma));

    /// <summary>Adds one value whose key was computed by <see cref="KeyOf(double, double)"/> with this sketch's γ.</summary>
    public void Add(double value, int key)
    {
        if (key == ZeroKey)
        {
            _zeroCount++;
            return;
        }

        if (value > MaxValue)
        {
            value = MaxValue;
        }

        _sum += value;
        if (value > _max)
        {
            _max = value;
        }

        AddToIndex(key, 1);
    }

    /// <summary>Adds all values of <paramref name="other"/>, which must have the same α.</summary>
    public void Merge(LatencySketch other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.RelativeAccuracy != RelativeAccuracy)
        {
            throw new ArgumentException("Only sketches with the same relative accuracy can be merged.", nameof(other));
        }

        _zeroCount += other._zeroCount;
        _sum += other._sum;
        if (other._max > _max)
        {
            _max = other._max;
        }

        if (other._nonZeroCount == 0)
        {
            return;
        }

        for (int i = other._minIndex; i <= other._maxIndex; i++)
        {
            int c = other._bins[i - other._offset];
            if (c != 0)
            {
                AddToIndex(i, c);
            }
        }
    }

    /// <summary>
    /// The q-quantile: the value of rank ⌊q·(n − 1)⌋ in the sorted input (0-based), within
    /// relative error α. Returns 0 for an empty sketch.
    /// </summary>
    public double Quantile(double q)
    {
        long n = Count;
        if (n == 0)
        {
            return 0;
        }

        q = Math.Clamp(q, 0, 1);
        long rank = (long)Math.Floor(q * (n - 1));
        if (rank < _zeroCount)
        {
            return 0;
        }

        long cumulative = _zeroCount;
        for (int i = _minIndex; i <= _maxIndex; i++)
        {
            cumulative += _bins[i - _offset];
            if (cumulative > rank)
            {
                return 2 * Math.Pow(_gamma, i) / (_gamma + 1);
            }
        }

        return 2 * Math.Pow(_gamma, _maxIndex) / (_gamma + 1);
    }

    /// <summary>
    /// Number of values at or below <paramref name="threshold"/>, up to the bucket containing the
    /// threshold (so within relative error α of the threshold); used for latency SLIs.
    /// </summary>
    public long CountAtOrBelow(double threshold)
    {
        if (!(threshold > MinValue))
        {
            return _zeroCount;
        }

        int limit = (int)Math.Ceiling(Math.Log(Math.Min(threshold, MaxValue)) * _inverseLogGamma);
        long total = _zeroCount;
        if (_nonZeroCount == 0)
        {
            return total;
        }

        int last = Math.Min(limit, _maxIndex);
        for (int i = _minIndex; i <= last; i++)
        {
            total += _bins[i - _offset];
        }

        return total;
    }

    /// <summary>Empties the sketch, keeping its storage for reuse.</summary>
    public void Clear()
    {
        if (_nonZeroCount > 0)
        {
            Array.Clear(_bins, _minIndex - _offset, _maxIndex - _minIndex + 1);
        }

        _nonZeroCount = 0;
        _zeroCount = 0;
        _sum = 0;
        _max = 0;
    }

    /// <summary>Latencies counted in the zero bin (at or below <see cref="MinValue"/>).</summary>
    public long ZeroCount => _zeroCount;

    /// <summary>
    /// Copies the non-empty bins, ascending by key, into two new arrays (a partial bucket's payload;
    /// one call per series and bucket, not per value).
    /// </summary>
    public (int[] Keys, int[] Counts) ExportBins()
    {
        if (_nonZeroCount == 0)
        {
            return ([], []);
        }

        int n = 0;
        for (int i = _minIndex; i <= _maxIndex; i++)
        {
            n += _bins[i - _offset] != 0 ? 1 : 0;
        }

        var keys = new int[n];
        var counts = new int[n];
        n = 0;
        for (int i = _minIndex; i <= _maxIndex; i++)
        {
            int c = _bins[i - _offset];
            if (c != 0)
            {
                keys[n] = i;
                counts[n++] = c;
            }
        }

        return (keys, counts);
    }

    /// <summary>
    /// Adds exported bins (see <see cref="ExportBins"/>) of a sketch with the same accuracy: the
    /// merge of DDSketch (Masson et al., VLDB 2019): the counts of equal keys add.
    /// </summary>
    public void AddBins(long zeroCount, ReadOnlySpan<int> keys, ReadOnlySpan<int> counts, double sum, double max)
    {
        if (keys.Length != counts.Length)
        {
            throw new ArgumentException("Bin keys and counts differ in length.", nameof(counts));
        }

        _zeroCount += zeroCount;
        _sum += sum;
        if (max > _max)
        {
            _max = max;
        }

        for (int i = 0; i < keys.Length; i++)
        {
            if (counts[i] > 0)
            {
                AddToIndex(keys[i], counts[i]);
            }
        }
    }

    /// <summary>
    /// Writes the sketch for a checkpoint: zero count, sum, max and the non-empty bins ascending by
    /// key (the storage's offset and size are not state: the same bins give the same quantiles).
    /// </summary>
    public void WriteState(BinaryWriter writer)
    {
        writer.Write(_zeroCount);
        writer.Write(_sum);
        writer.Write(_max);
        int n = 0;
        if (_nonZeroCount > 0)
        {
            for (int i = _minIndex; i <= _maxIndex; i++)
            {
                n += _bins[i - _offset] != 0 ? 1 : 0;
            }
        }

        writer.Write(n);
        if (n == 0)
        {
            return;
        }

        for (int i = _minIndex; i <= _maxIndex; i++)
        {
            int c = _bins[i - _offset];
            if (c != 0)
            {
                writer.Write(i);
                writer.Write(c);
            }
        }
    }

    /// <summary>Replaces the content with one written by <see cref="WriteState"/>; keys must ascend and counts be positive.</summary>
    public void ReadState(BinaryReader reader)
    {
        Clear();
        _zeroCount = reader.ReadInt64();
        _sum = reader.ReadDouble();
        _max = reader.ReadDouble();
        // A bin key is a ceil(log_γ x) for x in [1e-3, 1e7]: far fewer than 1 << 16 of them at any α the options allow.
        int n = StateFraming.ReadCount(reader, 1 << 16, "sketch bin");
        // Keys outside the clamped value range would only come from a corrupt section (and could make the store huge).
        int lowest = (int)Math.Floor(Math.Log(MinValue) * _inverseLogGamma);
        int highest = (int)Math.Ceiling(Math.Log(MaxValue) * _inverseLogGamma);
        int previous = int.MinValue;
        for (int b = 0; b < n; b++)
        {
            int key = reader.ReadInt32();
            int count = reader.ReadInt32();
            if (key <= previous || key < lowest || key > highest || count <= 0)
            {
                throw new InvalidDataException($"Saved sketch bin {b} (key {key}, count {count}) is out of order, out of range or empty.");
            }

            previous = key;
            AddToIndex(key, count);
        }
    }

    private void AddToIndex(int index, int count)
    {
        if (_nonZeroCount == 0)
        {
            if (index < _offset || index >= _offset + _bins.Length)
            {
                // Re-centre the empty store on the first value so its neighbours fit without growing.
                _offset = index - (_bins.Length / 2);
            }

            _minIndex = index;
            _maxIndex = index;
        }
        else if (index < _offset || index >= _offset + _bins.Length)
        {
            Grow(index);
        }

        _bins[index - _offset] += count;
        _nonZeroCount += count;
        if (index < _minIndex)
        {
            _minIndex = index;
        }
        else if (index > _maxIndex)
        {
            _maxIndex = index;
        }
    }

    private void Grow(int index)
    {
        int low = Math.Min(index, _minIndex);
        int high = Math.Max(index, _maxIndex);
        int needed = high - low + 1;
        int size = _bins.Length;
        while (size < needed + 16)
        {
            size *= 2;
        }

        var bins = new int[size];
        int newOffset = low - ((size - needed) / 2);
        Array.Copy(_bins, _minIndex - _offset, bins, _minIndex - newOffset, _maxIndex - _minIndex + 1);
        _bins = bins;
        _offset = newOffset;
    }
}
