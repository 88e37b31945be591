namespace Aiops.GenAI;

/// <summary>Result of a two-sided Mann–Whitney U test.</summary>
/// <param name="U">U statistic of the first sample (number of pairs where it is larger, ties counting ½).</param>
/// <param name="Z">Standardised U with continuity and tie correction (positive: first sample larger).</param>
/// <param name="PValue">Two-sided p-value from the normal approximation.</param>
public readonly record struct MannWhitneyResult(double U, double Z, double PValue);

/// <summary>
/// The Mann–Whitney U (Wilcoxon rank-sum) test: does one sample tend to have larger values than
/// the other? Chosen over a t-test because latencies and costs are skewed and heavy-tailed, where
/// means mislead. U₁ = R₁ − n₁(n₁+1)/2 from the rank sum R₁ of the first sample (mid-ranks for
/// ties); under H₀, E[U] = n₁n₂/2 and Var[U] = n₁n₂/12 · ((n+1) − Σ(t³ − t)/(n(n − 1))) with t the
/// size of each tie group (Mann &amp; Whitney 1947; tie correction as in Lehmann, Nonparametrics,
/// 1975, eq. 1.45). The p-value uses the normal approximation with a 0.5 continuity correction,
/// accurate for n₁, n₂ ≥ 8; smaller samples return p = 1 (no claim).
/// </summary>
public static class MannWhitneyU
{
    /// <summary>Below this many observations per sample the normal approximation is not trusted.</summary>
    public const int MinSampleSize = 8;

    /// <summary>Tests <paramref name="first"/> against <paramref name="second"/>.</summary>
    public static MannWhitneyResult Test(ReadOnlySpan<double> first, ReadOnlySpan<double> second)
    {
        int n1 = first.Length, n2 = second.Length, n = n1 + n2;
        if (n1 < MinSampleSize || n2 < MinSampleSize)
        {
            return new MannWhitneyResult(double.NaN, 0, 1);
        }

        var all = new (double Value, bool First)[n];
        for (int i = 0; i < n1; i++)
        {
            all[i] = (first[i], true);
        }

        for (int i = 0; i < n2; i++)
        {
            all[n1 + i] = (second[i], false);
        }

        Array.Sort(all, static (a, b) => a.Value.CompareTo(b.Value));
        double rankSumFirst = 0, tieTerm = 0;
        int start = 0;
        while (start < n)
        {
            int end = start;
            while (end + 1 < n && all[end + 1].Value == all[start].Value)
            {
                end++;
            }

            double midRank = ((start + 1) + (end + 1)) / 2.0;
            for (int i = start; i <= end; i++)
            {
                if (all[i].First)
                {
                    rankSumFirst += midRank;
                }
            }

            double t = end - start + 1;
            tieTerm += (t * t * t) - t;
            start = end + 1;
        }

        double u = rankSumFirst - (n1 * (n1 + 1) / 2.0);
        double mean = n1 * (double)n2 / 2.0;
        double variance = n1 * (double)n2 / 12.0 * ((n + 1) - (tieTerm / (n * (double)(n - 1))));
        if (variance <= 0)
        {
            return new MannWhitneyResult(u, 0, 1); // every value equal
        }

        double diff = u - mean;
        double corrected = Math.Max(0, Math.Abs(diff) - 0.5) * Math.Sign(diff);
        double z = corrected / Math.Sqrt(variance);
        double p = Math.Min(1, Erfc(Math.Abs(z) / Math.Sqrt(2)));
        return new MannWhitneyResult(u, z, p);
    }

    /// <summary>
    /// Complementary error function, Chebyshev fit with fractional error below 1.2e-7 everywhere
    /// (Press et al., Numerical Recipes, 2nd ed., §6.2, erfcc); two-sided p = erfc(|z|/√2).
    /// </summary>
    internal static double Erfc(double x)
    {
        double z = Math.Abs(x);
        double t = 1.0 / (1.0 + (0.5 * z));
        double poly = -0.82215223 + (t * 0.17087277);
        poly = 1.48851587 + (t * poly);
        poly = -1.13520398 + (t * poly);
        poly = 0.27886807 + (t * poly);
        poly = -0.18628806 + (t * poly);
        poly = 0.09678418 + (t * poly);
        poly = 0.37409196 + (t * poly);
        poly = 1.00002368 + (t * poly);
        poly = -1.26551223 + (t * poly);
        double r = t * Math.Exp(-(z * z) + poly);
        return x >= 0 ? r : 2.0 - r;
    }
}
