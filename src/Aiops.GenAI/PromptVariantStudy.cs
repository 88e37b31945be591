namespace Aiops.GenAI;

/// <summary>One pairwise comparison of two prompt variants on one signal.</summary>
/// <param name="Service">Service of the calls.</param>
/// <param name="Model">Model of the calls.</param>
/// <param name="Signal"><c>time_to_first_token_ms</c> or <c>cost_usd</c>.</param>
/// <param name="VariantA">First variant (ordinal order).</param>
/// <param name="VariantB">Second variant.</param>
/// <param name="CountA">Requests of A in the sample.</param>
/// <param name="CountB">Requests of B in the sample.</param>
/// <param name="MedianA">Median of A.</param>
/// <param name="MedianB">Median of B.</param>
/// <param name="Test">Mann–Whitney U of A against B.</param>
public sealed record VariantComparison(
    string Service, string Model, string Signal, string VariantA, string VariantB,
    int CountA, int CountB, double MedianA, double MedianB, MannWhitneyResult Test)
{
    /// <summary>The variant with the larger (worse) median when the difference is significant at <paramref name="alpha"/>, else null.</summary>
    public string? Worse(double alpha = 0.01) =>
        Test.PValue < alpha ? (MedianA > MedianB ? VariantA : VariantB) : null;

    /// <summary>Relative difference of the medians, worse over better minus one (0.25 = 25% worse).</summary>
    public double RelativeDifference => Math.Max(MedianA, MedianB) / Math.Min(MedianA, MedianB) - 1;
}

/// <summary>
/// Per-request samples of prompt variants (time to first token and cost) for comparing them with
/// a rank test rather than by their means. Each (service, model, variant) keeps a uniform reservoir
/// of at most <see cref="ReservoirSize"/> requests (Vitter's algorithm R, seeded), so memory is
/// bounded however long the replay: 4,096 samples detect a 5% median shift between two
/// variants with high power while costing 64 KiB per variant.
/// </summary>
public sealed class PromptVariantStudy
{
    /// <summary>Samples kept per (service, model, variant) and signal.</summary>
    public const int ReservoirSize = 4096;

    private readonly Dictionary<(string Service, string Model, string Variant), Reservoir> _samples = [];
    private readonly Random _random;

    /// <summary>Creates a study; <paramref name="seed"/> makes the reservoir sampling reproducible.</summary>
    public PromptVariantStudy(int seed = 17) => _random = new Random(seed);

    /// <summary>Records one request; NaN values (unknown TTFT, unpriced model) are skipped per signal.</summary>
    public void Record(string service, string model, string variant, double timeToFirstTokenMs, double costUsd)
    {
        var key = (service, model, variant);
        if (!_samples.TryGetValue(key, out var reservoir))
        {
            reservoir = new Reservoir();
            _samples[key] = reservoir;
        }

        reservoir.Add(timeToFirstTokenMs, costUsd, _random);
    }

    /// <summary>Every pair of variants of the same service and model, on each signal both sides reported.</summary>
    public IReadOnlyList<VariantComparison> Compare()
    {
        var result = new List<VariantComparison>();
        var keys = _samples.Keys.OrderBy(k => k.Service, StringComparer.Ordinal).ThenBy(k => k.Model, StringComparer.Ordinal)
            .ThenBy(k => k.Variant, StringComparer.Ordinal).ToList();
        for (int i = 0; i < keys.Count; i++)
        {
            for (int j = i + 1; j < keys.Count; j++)
            {
                if (keys[i].Service != keys[j].Service || keys[i].Model != keys[j].Model)
                {
                    continue;
                }

                var a = _samples[keys[i]];
                var b = _samples[keys[j]];
                // A signal one side never reported (no TTFT attribute, an unpriced model) has nothing to compare.
                if (a.Ttft.Count > 0 && b.Ttft.Count > 0)
                {
                    result.Add(Comparison(keys[i], keys[j], "time_to_first_token_ms", a.Ttft, b.Ttft));
                }

                if (a.Cost.Count > 0 && b.Cost.Count > 0)
                {
                    result.Add(Comparison(keys[i], keys[j], "cost_usd", a.Cost, b.Cost));
                }
            }
        }

        return result;
    }

    private static VariantComparison Comparison(
        (string Service, string Model, string Variant) a, (string Service, string Model, string Variant) b, string signal, List<double> x, List<double> y) =>
        new(a.Service, a.Model, signal, a.Variant, b.Variant, x.Count, y.Count, Median(x), Median(y),
            MannWhitneyU.Test(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(x), System.Runtime.InteropServices.CollectionsMarshal.AsSpan(y)));

    private static double Median(List<double> values)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.ToArray();
        Array.Sort(sorted);
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private sealed class Reservoir
    {
        public readonly List<double> Ttft = new(64);
        public readonly List<double> Cost = new(64);
        private long _seenTtft;
        private long _seenCost;

        public void Add(double ttft, double cost, Random random)
        {
            if (!double.IsNaN(ttft))
            {
                Offer(Ttft, ref _seenTtft, ttft, random);
            }

            if (!double.IsNaN(cost))
            {
                Offer(Cost, ref _seenCost, cost, random);
            }
        }

        // Algorithm R: the k-th item replaces a random slot with probability ReservoirSize / k.
        private static void Offer(List<double> sample, ref long seen, double value, Random random)
        {
            seen++;
            if (sample.Count < ReservoirSize)
            {
                sample.Add(value);
                return;
            }

            long slot = random.NextInt64(seen);
            if (slot < ReservoirSize)
            {
                sample[(int)slot] = value;
            }
        }
    }
}
