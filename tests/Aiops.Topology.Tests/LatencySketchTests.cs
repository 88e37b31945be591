namespace Aiops.Topology.Tests;

public class LatencySketchTests
{
    [Theory]
    [InlineData(0.5)]
    [InlineData(0.95)]
    [InlineData(0.99)]
    [InlineData(0.999)]
    public void QuantilesOfALogNormalSampleAreWithinTheStatedRelativeError(double q)
    {
        // 20,000 log-normal latencies (median 50 ms, σ = 1): four decades of spread. The exact
        // quantile is the sorted value at rank ⌊q·(n−1)⌋, the rank the sketch documents; the bound
        // is α = 1% (DDSketch, Proposition 3), checked with a 1e-9 slack for rounding only.
        var random = new Random(42);
        var values = new double[20_000];
        var sketch = new LatencySketch(0.01);
        for (int i = 0; i < values.Length; i++)
        {
            double u1 = 1.0 - random.NextDouble();
            double u2 = random.NextDouble();
            double normal = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            values[i] = 50 * Math.Exp(normal);
            sketch.Add(values[i]);
        }

        Array.Sort(values);
        double exact = values[(long)Math.Floor(q * (values.Length - 1))];
        double estimate = sketch.Quantile(q);
        Assert.InRange(Math.Abs(estimate - exact) / exact, 0, 0.01 + 1e-9);
    }

    [Fact]
    public void AWiderAccuracySettingStillHonoursItsOwnBound()
    {
        // α = 5% on uniform 1..1000 ms: every quantile within 5% of the exact order statistic.
        var sketch = new LatencySketch(0.05);
        var values = new double[1000];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = i + 1;
            sketch.Add(values[i]);
        }

        foreach (double q in new[] { 0.01, 0.25, 0.5, 0.75, 0.9, 0.99 })
        {
            double exact = values[(long)Math.Floor(q * (values.Length - 1))];
            Assert.InRange(Math.Abs(sketch.Quantile(q) - exact) / exact, 0, 0.05 + 1e-9);
        }
    }

    [Fact]
    public void MergingTwoSketchesGivesTheSameQuantilesAsOneSketchOfAllValues()
    {
        // Mergeability: bucket counts add, so merged and direct sketches must agree exactly.
        var random = new Random(7);
        var a = new LatencySketch();
        var b = new LatencySketch();
        var all = new LatencySketch();
        for (int i = 0; i < 5_000; i++)
        {
            double fast = 1 + (random.NextDouble() * 10);
            double slow = 500 + (random.NextDouble() * 5_000);
            a.Add(fast);
            b.Add(slow);
            all.Add(fast);
            all.Add(slow);
        }

        a.Merge(b);
        Assert.Equal(all.Count, a.Count);
        foreach (double q in new[] { 0.1, 0.5, 0.9, 0.99 })
        {
            Assert.Equal(all.Quantile(q), a.Quantile(q));
        }
    }

    [Fact]
    public void AClearedSketchForgetsItsValues()
    {
        var sketch = new LatencySketch();
        for (int i = 0; i < 100; i++)
        {
            sketch.Add(1000);
        }

        sketch.Clear();
        sketch.Add(10);
        Assert.Equal(1, sketch.Count);
        Assert.InRange(sketch.Quantile(0.99), 9.9, 10.1);
    }

    [Fact]
    public void ZeroAndNegativeDurationsCountAsZero()
    {
        var sketch = new LatencySketch();
        sketch.Add(0);
        sketch.Add(-5);
        sketch.Add(double.NaN);
        sketch.Add(100);
        Assert.Equal(4, sketch.Count);
        // Ranks 0..2 are the three zero-bucket values; rank 3 (q = 1) is 100 ± 1%.
        Assert.Equal(0, sketch.Quantile(0.5));
        Assert.InRange(sketch.Quantile(1), 99, 101);
    }

    [Fact]
    public void CountAtOrBelowCountsValuesUnderALatencyThreshold()
    {
        // 100 values at 100 ms and 100 at 500 ms: 100 are at or below 300 ms.
        var sketch = new LatencySketch();
        for (int i = 0; i < 100; i++)
        {
            sketch.Add(100);
            sketch.Add(500);
        }

        Assert.Equal(100, sketch.CountAtOrBelow(300));
        Assert.Equal(200, sketch.CountAtOrBelow(600));
    }

    [Fact]
    public void MergingSketchesOfDifferentAccuracyIsRefused()
    {
        var ex = Assert.Throws<ArgumentException>(() => new LatencySketch(0.01).Merge(new LatencySketch(0.02)));
        Assert.Contains("same relative accuracy", ex.Message, StringComparison.Ordinal);
    }
}
