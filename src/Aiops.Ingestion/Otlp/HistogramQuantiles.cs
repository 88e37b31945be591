namespace Aiops.Ingestion.Otlp;

/// <summary>
/// Quantiles from bucket counts, the way a backend reads OTLP histograms.
/// <para>Explicit buckets (OTLP <c>HistogramDataPoint</c>): bucket i covers
/// (bounds[i-1], bounds[i]], the first (-inf, bounds[0]], the last (bounds[n-1], +inf). The rank
/// q·N is located in the cumulative counts and interpolated linearly inside its bucket, as
/// Prometheus' <c>histogram_quantile</c> does. The open ends use the point's min/max when known;
/// otherwise the first bucket starts at 0 (if its bound is positive) and a rank in the overflow
/// bucket returns the highest finite bound.</para>
/// <para>Exponential buckets (OTLP <c>ExponentialHistogramDataPoint</c>, spec "Exponential
/// Buckets"): base = 2^(2^-scale); positive bucket index i covers (base^i, base^(i+1)], negative
/// bucket i covers [-base^(i+1), -base^i), and the zero bucket counts values of magnitude up to
/// the zero threshold. Inside a bucket the value is interpolated geometrically (log-uniform,
/// matching the buckets' constant relative width): base^(i+f) for the fraction f of the bucket's
/// count below the rank.</para>
/// Results are clamped to [min, max] when those are known.
/// </summary>
internal static class HistogramQuantiles
{
    /// <summary>Lower boundary base^index of exponential bucket <paramref name="index"/> at <paramref name="scale"/>.</summary>
    public static double ExponentialLowerBoundary(int index, int scale) =>
        Math.Pow(2.0, index * Math.ScaleB(1.0, -scale));

    /// <summary>Quantile <paramref name="q"/> of an explicit-bucket histogram; NaN when it has no counts.</summary>
    /// <param name="bounds">Strictly increasing bucket bounds (n).</param>
    /// <param name="counts">Bucket counts (n + 1).</param>
    /// <param name="q">Quantile in [0, 1].</param>
    /// <param name="min">Smallest recorded value, NaN if unknown.</param>
    /// <param name="max">Largest recorded value, NaN if unknown.</param>
    public static double Explicit(ReadOnlySpan<double> bounds, ReadOnlySpan<ulong> counts, double q, double min, double max)
    {
        ulong total = 0;
        for (int i = 0; i < counts.Length; i++)
        {
            total += counts[i];
        }

        if (total == 0 || counts.Length != bounds.Length + 1)
        {
            return double.NaN;
        }

        double rank = q * total;
        double cumulative = 0;
        int last = counts.Length - 1;
        for (int i = 0; i <= last; i++)
        {
            ulong c = counts[i];
            if (c == 0 || cumulative + c < rank)
            {
                cumulative += c;
                continue;
            }

            double lower, upper;
            if (i == 0)
            {
                upper = bounds.Length > 0 ? bounds[0] : (double.IsNaN(max) ? double.NaN : max);
                lower = !double.IsNaN(min) ? min : (bounds.Length > 0 && bounds[0] > 0 ? 0 : upper);
            }
            else
            {
                lower = bounds[i - 1];
                upper = i == last ? (double.IsNaN(max) ? lower : Math.Max(lower, max)) : bounds[i];
            }

            if (double.IsNaN(lower) || double.IsNaN(upper))
            {
                return double.NaN;
            }

            double value = lower + ((upper - lower) * ((rank - cumulative) / c));
            return Clamp(value, min, max);
        }

        return double.NaN;
    }

    /// <summary>Quantile <paramref name="q"/> of an exponential histogram; NaN when it has no counts.</summary>
    public static double Exponential(int scale, ulong zeroCount, int positiveOffset, ReadOnlySpan<ulong> positive, int negativeOffset, ReadOnlySpan<ulong> negative, double q, double min, double max)
    {
        ulong total = zeroCount;
        for (int i = 0; i < positive.Length; i++)
        {
            total += positive[i];
        }

        for (int i = 0; i < negative.Length; i++)
        {
            total += negative[i];
        }

        if (total == 0)
        {
            return double.NaN;
        }

        double rank = q * total;
        double cumulative = 0;
        double inverseBase2 = Math.ScaleB(1.0, -scale); // log2(base) = 2^-scale

        // Most negative first: the highest negative index is the largest magnitude.
        for (int k = negative.Length - 1; k >= 0; k--)
        {
            ulong c = negative[k];
            if (c > 0 && cumulative + c >= rank)
            {
                double f = (rank - cumulative) / c;
                int index = negativeOffset + k;
                return Clamp(-Math.Pow(2.0, (index + 1 - f) * inverseBase2), min, max);
            }

            cumulative += c;
        }

        if (zeroCount > 0 && cumulative + zeroCount >= rank)
        {
            return Clamp(0, min, max);
        }

        cumulative += zeroCount;
        for (int k = 0; k < positive.Length; k++)
        {
            ulong c = positive[k];
            if (c > 0 && cumulative + c >= rank)
            {
                double f = (rank - cumulative) / c;
                int index = positiveOffset + k;
                return Clamp(Math.Pow(2.0, (index + f) * inverseBase2), min, max);
            }

            cumulative += c;
        }

        return double.NaN;
    }

    private static double Clamp(double value, double min, double max)
    {
        if (!double.IsNaN(min) && value < min)
        {
            value = min;
        }

        if (!double.IsNaN(max) && value > max)
        {
            value = max;
        }

        return value;
    }
}
