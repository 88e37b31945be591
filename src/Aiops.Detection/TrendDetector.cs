using MathNet.Numerics;

namespace Aiops.Detection;

/// <summary>
/// Slow drift / leak detection on block means: the Mann–Kendall test (Mann 1945; Kendall 1975:
/// S = Σ_{i&lt;j} sgn(y_j − y_i), Var S = n(n−1)(2n+5)/18 without ties, z = (S − sgn S)/√Var S)
/// decides whether there is a monotone trend; the Theil–Sen estimator (Sen 1968: the median of
/// pairwise slopes) measures it robustly and gives the time to exhaustion when a capacity is known.
/// Points are averaged into blocks of b points so the O(n²) test runs once per block
/// (n = 32 blocks: 496 pairs every 16 points ≈ 31 pair operations per point, amortised).
/// </summary>
internal sealed class TrendDetector
{
    [ThreadStatic] private static double[]? t_slopes;
    [ThreadStatic] private static double[]? t_work;

    private readonly double[] _blocks;
    private readonly int _blockPoints;
    private int _head;
    private int _filled;
    private double _blockSum;
    private int _blockCount;
    private long _blockStartTs;
    private long _windowStartTs;
    private int _cooldownBlocks;

    public TrendDetector(int blockPoints, int blocks)
    {
        _blockPoints = blockPoints;
        _blocks = new double[blocks];
    }

    /// <summary>Result of the last completed test.</summary>
    public readonly record struct Verdict(bool Fired, double PValue, double SlopePerMs, double Level, double ChangeSigmas, long SinceMs);

    /// <summary>Adds a point; when a block completes, runs the test and returns true with its verdict.</summary>
    public bool Add(long ts, double value, double intervalMs, DetectionProfile profile, out Verdict verdict)
    {
        verdict = default;
        if (_blockCount == 0)
        {
            _blockStartTs = ts;
        }

        _blockSum += value;
        _blockCount++;
        if (_blockCount < _blockPoints)
        {
            return false;
        }

        if (_filled == 0)
        {
            _windowStartTs = _blockStartTs;
        }

        _blocks[_head] = _blockSum / _blockCount;
        _head = _head + 1 == _blocks.Length ? 0 : _head + 1;
        if (_filled < _blocks.Length)
        {
            _filled++;
        }
        else
        {
            _windowStartTs += (long)(intervalMs * _blockPoints);
        }

        _blockSum = 0;
        _blockCount = 0;
        if (_cooldownBlocks > 0)
        {
            _cooldownBlocks--;
        }

        if (_filled < Math.Min(_blocks.Length, 12))
        {
            return false;
        }

        verdict = Test(intervalMs, profile);
        if (verdict.Fired)
        {
            _cooldownBlocks = _blocks.Length / 2;
        }

        return true;
    }

    private Verdict Test(double intervalMs, DetectionProfile profile)
    {
        var n = _filled;
        var pairs = n * (n - 1) / 2;
        var slopes = t_slopes is { Length: var sl } && sl >= pairs ? t_slopes : t_slopes = new double[Math.Max(pairs, 128 * 127 / 2)];
        var y = t_work is { Length: var wl } && wl >= n ? t_work : t_work = new double[Math.Max(n, 128)];
        var start = _filled < _blocks.Length ? 0 : _head;
        for (var i = 0; i < n; i++)
        {
            y[i] = _blocks[(start + i) % _blocks.Length];
        }

        long s = 0;
        var p = 0;
        for (var i = 0; i < n - 1; i++)
        {
            for (var j = i + 1; j < n; j++)
            {
                var d = y[j] - y[i];
                s += Math.Sign(d);
                slopes[p++] = d / (j - i);
            }
        }

        var variance = n * (n - 1.0) * ((2.0 * n) + 5) / 18.0;
        var z = (s - Math.Sign(s)) / Math.Sqrt(variance);
        var pValue = SpecialFunctions.Erfc(Math.Abs(z) * 0.7071067811865476);
        var slopeSpan = slopes.AsSpan(0, pairs);
        slopeSpan.Sort();
        var slope = Median(slopeSpan);

        // Residual scale around the Theil–Sen line: intercept = median(y_i − slope·i).
        var resid = slopes.AsSpan(0, n);
        for (var i = 0; i < n; i++)
        {
            resid[i] = y[i] - (slope * i);
        }

        resid.Sort();
        var intercept = Median(resid);
        for (var i = 0; i < n; i++)
        {
            resid[i] = Math.Abs(y[i] - intercept - (slope * i));
        }

        resid.Sort();
        var scale = Math.Max(1.4826 * Median(resid), 1e-12 * Math.Max(1, Math.Abs(intercept)));
        var change = slope * (n - 1);
        var changeSigmas = Math.Abs(change) / scale;
        var level = intercept + (slope * (n - 1));
        var directionOk = profile.Direction switch
        {
            AlertDirection.Up => slope > 0,
            AlertDirection.Down => slope < 0,
            _ => true,
        };
        var fired = _cooldownBlocks == 0 && directionOk && pValue <= profile.TrendPValue && changeSigmas >= profile.TrendMinChangeSigmas;
        var blockMs = Math.Max(1, intervalMs * _blockPoints);
        return new Verdict(fired, pValue, slope / blockMs, level, changeSigmas, _windowStartTs);
    }

    private static double Median(Span<double> sorted) =>
        (sorted.Length & 1) == 1 ? sorted[sorted.Length / 2] : 0.5 * (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]);

    public int StateBytes => (8 * _blocks.Length) + 24 + 64;

    public void Write(BinaryWriter w)
    {
        w.Write(_head);
        w.Write(_filled);
        w.Write(_blockSum);
        w.Write(_blockCount);
        w.Write(_blockStartTs);
        w.Write(_windowStartTs);
        w.Write(_cooldownBlocks);
        Snapshot.WriteArray(w, _blocks);
    }

    public void Read(BinaryReader r)
    {
        _head = r.ReadInt32();
        _filled = r.ReadInt32();
        _blockSum = r.ReadDouble();
        _blockCount = r.ReadInt32();
        _blockStartTs = r.ReadInt64();
        _windowStartTs = r.ReadInt64();
        _cooldownBlocks = r.ReadInt32();
        Snapshot.ReadArray(r, _blocks, "trend.blocks");
        if (_head < 0 || _head >= _blocks.Length || _filled < 0 || _filled > _blocks.Length)
        {
            throw new InvalidDataException($"Snapshot field trend.head/filled out of range ({_head}, {_filled}).");
        }
    }
}
