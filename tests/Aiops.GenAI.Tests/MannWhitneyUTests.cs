namespace Aiops.GenAI.Tests;

public sealed class MannWhitneyUTests
{
    [Theory]
    [InlineData(0.0, 1.0)] // erfc(0) = 1
    [InlineData(1.3859038243496777, 0.05)] // 1.959964 / √2: the two-sided 5% point of the normal
    [InlineData(-1.3859038243496777, 1.95)] // erfc(−x) = 2 − erfc(x)
    public void ErfcMatchesTheNormalTable(double x, double expected)
    {
        // Numerical Recipes states a fractional error below 1.2e-7.
        Assert.Equal(expected, MannWhitneyU.Erfc(x), 6);
    }

    [Fact]
    public void FullySeparatedSamplesGiveUZeroAndTheHandComputedPValue()
    {
        double[] low = [1, 2, 3, 4, 5, 6, 7, 8];
        double[] high = [9, 10, 11, 12, 13, 14, 15, 16];

        var result = MannWhitneyU.Test(low, high);

        // Rank sum of "low" = 1 + … + 8 = 36, U = 36 − 8·9/2 = 0; E[U] = 32, Var[U] = 8·8/12·17 = 90.67;
        // z = (0 − 32 + 0.5)/√90.67 = −3.3082; p = erfc(3.3082/√2) = 0.000939 (computed by hand with a calculator).
        Assert.Equal(0, result.U);
        Assert.Equal(-3.3082, result.Z, 4);
        Assert.Equal(0.000939, result.PValue, 6);
    }

    [Fact]
    public void SamplesFromTheSameDistributionAreNotSignificant()
    {
        var random = new Random(3);
        double[] a = [.. Enumerable.Range(0, 300).Select(_ => random.NextDouble())];
        double[] b = [.. Enumerable.Range(0, 300).Select(_ => random.NextDouble())];

        Assert.True(MannWhitneyU.Test(a, b).PValue > 0.01);
    }

    [Fact]
    public void TooSmallSamplesMakeNoClaim()
    {
        Assert.Equal(1, MannWhitneyU.Test([1, 2, 3], [10, 20, 30]).PValue);
    }

    [Fact]
    public void AllTiesGiveNoSignificance()
    {
        double[] same = [5, 5, 5, 5, 5, 5, 5, 5];

        Assert.Equal(1, MannWhitneyU.Test(same, same).PValue);
    }
}

public sealed class PromptVariantStudyTests
{
    [Fact]
    public void TheSlowerAndCostlierVariantIsNamedWithItsDifference()
    {
        // Variant B is 30% slower and 50% costlier, with lognormal-ish noise (seeded).
        var study = new PromptVariantStudy();
        var random = new Random(11);
        for (int i = 0; i < 400; i++)
        {
            double noise = Math.Exp(0.2 * (random.NextDouble() - 0.5));
            study.Record("assistant", "sim-large", "A", 400 * noise, 0.010 * noise);
            study.Record("assistant", "sim-large", "B", 520 * noise, 0.015 * noise);
        }

        var comparisons = study.Compare();

        var latency = Assert.Single(comparisons, c => c.Signal == "time_to_first_token_ms");
        Assert.Equal("B", latency.Worse());
        Assert.Equal(0.30, latency.RelativeDifference, 1); // 520 / 400 − 1, within noise
        var cost = Assert.Single(comparisons, c => c.Signal == "cost_usd");
        Assert.Equal("B", cost.Worse());
        Assert.Equal(0.50, cost.RelativeDifference, 1);
    }

    [Fact]
    public void TheReservoirStaysBounded()
    {
        var study = new PromptVariantStudy();
        for (int i = 0; i < 3 * PromptVariantStudy.ReservoirSize; i++)
        {
            study.Record("s", "m", "A", i, double.NaN);
            study.Record("s", "m", "B", i, double.NaN);
        }

        var latency = Assert.Single(study.Compare(), c => c.Signal == "time_to_first_token_ms");
        Assert.Equal(PromptVariantStudy.ReservoirSize, latency.CountA);
        Assert.DoesNotContain(study.Compare(), c => c.Signal == "cost_usd"); // NaN costs skipped: no cost sample, no cost comparison
    }

    [Fact]
    public void TheAggregatorRecordsEveryVariantRequest()
    {
        var aggregator = new GenAiSignalAggregator(new GenAiOptions(), new GenAiPriceTable([new("m", new ModelPrice(1, 1))]));
        var points = new List<Aiops.Core.MetricPoint>();
        for (int i = 0; i < 10; i++)
        {
            foreach (string variant in new[] { "A", "B" })
            {
                var span = new Aiops.Core.SpanRecord
                {
                    TraceId = 1, SpanId = (ulong)(i + 1), Service = "svc", Name = "chat",
                    StartUnixNanos = 1_700_000_000_000_000_000, EndUnixNanos = 1_700_000_001_000_000_000,
                    Attributes = [new("gen_ai.request.model", "m"), new("gen_ai.prompt.variant", variant), new("gen_ai.response.time_to_first_chunk", variant == "A" ? "0.1" : "0.3")],
                };
                aggregator.Add(span, points);
            }
        }

        var latency = Assert.Single(aggregator.Variants.Compare(), c => c.Signal == "time_to_first_token_ms");
        Assert.Equal(10, latency.CountA);
        Assert.Equal(100, latency.MedianA, 9); // 0.1 s
        Assert.Equal(300, latency.MedianB, 9); // 0.3 s
    }
}
