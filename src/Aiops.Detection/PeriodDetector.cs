namespace Aiops.Detection;

/// <summary>
/// Dominant period of a series from its sample autocorrelation function (Box &amp; Jenkins): the
/// lag of the highest local maximum of the ACF between <c>minLag</c> and <c>maxLag</c>, if that
/// maximum exceeds a threshold. The lag-k autocovariance is averaged over its n − k products (the
/// unbiased form): the usual 1/n form shrinks the ACF linearly with the lag, which moved the peak
/// of a 30-sample sine seen through the detector's 64-sample history to lag 29, and a 29-sample
/// seasonal profile of a 30-sample cycle slips out of phase within a few cycles. Allocation-free;
/// O(n · maxLag).
/// </summary>
public static class PeriodDetector
{
    /// <summary>How much higher the ACF peak of a longer lag must be than a shorter peak already found.</summary>
    private const double HarmonicMargin = 0.1;

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

        c0 /= n;
        var best = 0;
        var bestR = minCorrelation;
        var previous = Acf(values, mean, c0, minLag - 1);
        var current = Acf(values, mean, c0, minLag);
        for (var lag = minLag; lag <= maxLag; lag++)
        {
            var next = lag + 1 <= n - 1 ? Acf(values, mean, c0, lag + 1) : double.NegativeInfinity;
            // A multiple of the period repeats its peak as high (the unbiased ACF no longer shrinks
            // it); a longer lag must beat the shorter one by HarmonicMargin to be taken instead.
            if (current > previous && current >= next && current > (best == 0 ? bestR : bestR + HarmonicMargin))
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

        return s / (x.Length - lag) / c0;
    }
}
