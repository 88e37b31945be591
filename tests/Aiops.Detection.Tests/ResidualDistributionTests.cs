namespace Aiops.Detection.Tests;

public class ResidualDistributionTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(87)]
    [InlineData(88)]
    [InlineData(129)]
    public void TheSelectionMedianEqualsTheMedianOfTheSortedValues(int n)
    {
        // Expected: the textbook median of the sorted copy (middle element, or the mean of the two
        // middle ones). Values are rounded to 0.5 so ties and runs of equal residuals occur.
        var gen = new SeriesGen(n);
        for (var trial = 0; trial < 50; trial++)
        {
            var values = new float[n];
            for (var i = 0; i < n; i++)
            {
                values[i] = (float)(Math.Round(gen.Normal() * 4) / 2);
            }

            var sorted = (float[])values.Clone();
            Array.Sort(sorted);
            var expected = (n & 1) == 1 ? sorted[n / 2] : 0.5 * ((double)sorted[(n / 2) - 1] + sorted[n / 2]);
            Assert.Equal(expected, ResidualDistribution.MedianOf(values));
        }
    }

    [Fact]
    public void SortedAndConstantRunsGiveTheirMedian()
    {
        var ascending = new float[88];
        var constant = new float[88];
        for (var i = 0; i < ascending.Length; i++)
        {
            ascending[i] = i;
            constant[i] = 3;
        }

        Assert.Equal(43.5, ResidualDistribution.MedianOf(ascending)); // (43 + 44) / 2
        Assert.Equal(3.0, ResidualDistribution.MedianOf(constant));
    }
}
