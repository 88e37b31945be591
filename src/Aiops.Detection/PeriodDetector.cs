namespace Aiops.Detection;

/// <summary>
/// Dominant period of a series from its sample autocorrelation function (Box &amp; Jenkins): the
/// lag of the highest local maximum of the ACF between <c>minLag</c> and <c>maxLag</c>, if that
/// maximum exceeds a threshold. Allocation-free; O(n · maxLag).
/// </summary>
public static class PeriodDetector
{
    /// <summary>
    /// Returns the dominant period in samples, or 0 when no lag's autocorrelation reaches
    /// <paramref name="minCorrelation"/> (0.3 by default: weaker cycles do not pay for a profile).
    /// </summary>
    public static int DominantPeriod(ReadOnlySpan<double> values, int minLag, int maxLag, double minCorrelation = 0.3)
    {
        var n = values.Length;
        maxLag = Math.Min(maxLag, n / 2);
        if (minLag < 2 || maxLag < minLag + 1)
        {
            return 0;
        }

        double mean = 0;
        foreach (var v in values)
        {
            mean += v;
        }

        mean /= n;
        double c0 = 0;
        foreach (var v in values)
        {
            c0 += (v - mean) * (v - mean);
        }

        if (c0 <= 0)
        {
            return 0;
        }

        var best = 0;
        var bestR = minCorrelation;
        var previous = Acf(values, mean, c0, minLag - 1);
        var current = Acf(values, mean, c0, minLag);
        for (var lag = minLag; lag <= maxLag; lag++)
        {
            var next = lag + 1 <= n - 1 ? Acf(values, mean, c0, lag + 1) : double.NegativeInfinity;
            if (current > previous && current >= next && current > bestR)
            {
                best = lag;
                bestR = current;
            }

            previous = current;
            current = next;
        }

        return best;
    }

    private static double Acf(ReadOnlySpan<double> x, double mean, double c0, int lag)
    {
        double s = 0;
        for (var i = lag; i < x.Length; i++)
        {
            s += (x[i] - mean) * (x[i - lag] - mean);
        }

        return s / c0;
    }
}
