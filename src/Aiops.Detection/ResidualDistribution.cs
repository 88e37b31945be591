using MathNet.Numerics;

namespace Aiops.Detection;

/// <summary>
/// The recent residual distribution: a ring of the last W residuals (floats: 4 bytes each, the
/// precision of a p-value needs no more), with robust location (median) and scale (1.4826·MAD,
/// floored by 1.2533·mean absolute deviation so a mostly-constant series keeps a usable scale)
/// recomputed every k points by <see cref="Refit"/>.
/// </summary>
/// <remarks>
/// The p-value combines the empirical tail with a normal tail: if some of the W recent residuals
/// were at least as extreme, p = max(normal tail, (count + 1)/(W + 1)) so heavy-tailed noise does
/// not look anomalous; if none were, p = min(normal tail, 1/(W + 1)) so the normal tail extrapolates
/// beyond the largest residual seen. This is the robust-quantile alternative to the kernel density
/// of ML.NET's SsaSpikeDetector, at O(W) per point with no exp() per sample.
/// </remarks>
internal sealed class ResidualDistribution
{
    [ThreadStatic] private static float[]? t_scratch;

    private readonly float[] _ring;
    private int _head;
    private int _filled;
    private double _median;
    private double _scale;

    public ResidualDistribution(int window) => _ring = new float[window];

    public double Median => _median;

    public double Scale => _scale;

    public int Count => _filled;

    public void Push(double residual)
    {
        _ring[_head] = (float)residual;
        _head = _head + 1 == _ring.Length ? 0 : _head + 1;
        if (_filled < _ring.Length)
        {
            _filled++;
        }
    }

    /// <summary>Recomputes median and scale. <paramref name="floor"/> is the smallest scale allowed (relative to the level).</summary>
    public void Refit(double floor)
    {
        if (_filled == 0)
        {
            _scale = floor;
            return;
        }

        var scratch = t_scratch is { Length: var sl } && sl >= _ring.Length ? t_scratch : t_scratch = new float[Math.Max(_ring.Length, 1024)];
        var s = scratch.AsSpan(0, _filled);
        _ring.AsSpan(0, _filled).CopyTo(s);
        var median = MedianOf(s);
        double meanAbs = 0;
        for (var i = 0; i < s.Length; i++)
        {
            var a = Math.Abs(s[i] - median);
            meanAbs += a;
            s[i] = (float)a;
        }

        meanAbs /= s.Length;
        var mad = MedianOf(s);
        _median = median;
        _scale = Math.Max(Math.Max(1.4826 * mad, 1.2533 * meanAbs), floor);
    }

    /// <summary>
    /// The median by selection (Hoare's quickselect, expected O(n)) instead of a full sort: the
    /// same order statistics, at about a third of the cost of the two sorts a refit used to do.
    /// Reorders <paramref name="s"/>.
    /// </summary>
    internal static double MedianOf(Span<float> s)
    {
        var k = s.Length / 2;
        var upper = Select(s, k);
        if ((s.Length & 1) == 1)
        {
            return upper;
        }

        // After selection everything left of k is ≤ s[k]: the lower middle is their maximum.
        var lower = s[0];
        for (var i = 1; i < k; i++)
        {
            lower = Math.Max(lower, s[i]);
        }

        return 0.5 * ((double)lower + upper);
    }

    private static float Select(Span<float> s, int k)
    {
        var lo = 0;
        var hi = s.Length - 1;
        while (lo < hi)
        {
            // Median-of-three pivot keeps sorted and constant runs (common in residuals) from the O(n²) case.
            var mid = lo + ((hi - lo) / 2);
            var a = s[lo];
            var b = s[mid];
            var c = s[hi];
            var pivot = Math.Max(Math.Min(a, b), Math.Min(Math.Max(a, b), c));
            var i = lo;
            var j = hi;
            while (i <= j)
            {
                while (s[i] < pivot)
                {
                    i++;
                }

                while (s[j] > pivot)
                {
                    j--;
                }

                if (i <= j)
                {
                    (s[i], s[j]) = (s[j], s[i]);
                    i++;
                    j--;
                }
            }

            if (k <= j)
            {
                hi = j;
            }
            else if (k >= i)
            {
                lo = i;
            }
            else
            {
                return s[k];
            }
        }

        return s[k];
    }

    /// <summary>P-value of a residual (see remarks); one-sided when <paramref name="direction"/> is not Both.</summary>
    public double PValue(double residual, AlertDirection direction)
    {
        var dev = residual - _median;
        var z = dev / _scale;
        double pNormal;
        var count = 0;
        var ring = _ring;
        var n = _filled;
        switch (direction)
        {
            case AlertDirection.Up:
                if (z <= 0)
                {
                    return 1;
                }

                pNormal = 0.5 * SpecialFunctions.Erfc(z * 0.7071067811865476);
                for (var i = 0; i < n; i++)
                {
                    count += ring[i] - _median >= dev ? 1 : 0;
                }

                break;
            case AlertDirection.Down:
                if (z >= 0)
                {
                    return 1;
                }

                pNormal = 0.5 * SpecialFunctions.Erfc(-z * 0.7071067811865476);
                for (var i = 0; i < n; i++)
                {
                    count += ring[i] - _median <= dev ? 1 : 0;
                }

                break;
            default:
                var a = Math.Abs(dev);
                pNormal = SpecialFunctions.Erfc(Math.Abs(z) * 0.7071067811865476);
                for (var i = 0; i < n; i++)
                {
                    count += Math.Abs(ring[i] - _median) >= a ? 1 : 0;
                }

                break;
        }

        var empirical = (count + 1.0) / (n + 1.0);
        return count > 0 ? Math.Max(pNormal, empirical) : Math.Min(pNormal, empirical);
    }

    public int StateBytes => (4 * _ring.Length) + 24 + 40;

    public void Write(BinaryWriter w)
    {
        w.Write(_head);
        w.Write(_filled);
        w.Write(_median);
        w.Write(_scale);
        Snapshot.WriteArray(w, _ring);
    }

    public void Read(BinaryReader r)
    {
        _head = r.ReadInt32();
        _filled = r.ReadInt32();
        _median = r.ReadDouble();
        _scale = r.ReadDouble();
        Snapshot.ReadArray(r, _ring, "residuals.ring");
        if (_head < 0 || _head >= _ring.Length || _filled < 0 || _filled > _ring.Length)
        {
            throw new InvalidDataException($"Snapshot field residuals.head/filled out of range ({_head}, {_filled}).");
        }
    }
}
