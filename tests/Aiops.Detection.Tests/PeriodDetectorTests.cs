namespace Aiops.Detection.Tests;

public class PeriodDetectorTests
{
    [Theory]
    [InlineData(12)]
    [InlineData(24)]
    [InlineData(37)]
    public void TheDominantPeriodOfANoisySineIsItsPeriod(int period)
    {
        // Amplitude 3, noise σ = 1: the ACF at the period is ≈ 4.5/5.5 ≈ 0.8, well above 0.3.
        var gen = new SeriesGen(period);
        var x = new double[400];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = 5 + (3 * Math.Sin(2 * Math.PI * i / period)) + gen.Normal();
        }

        Assert.Equal(period, PeriodDetector.DominantPeriod(x, 4, 100));
    }

    [Fact]
    public void AThirtySampleCycleSeenThroughSixtyFourSamplesIsFoundAtThirty()
    {
        // The detector searches lags 16..32 of its 64-point history. The 1/n autocovariance shrinks
        // by (n − k)/n with the lag (34/64 at 30, 35/64 at 29), which put the peak at 29.
        var gen = new SeriesGen(30);
        var x = new double[64];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = 100 + (10 * Math.Sin(2 * Math.PI * i / 30)) + (0.3 * gen.Normal());
        }

        Assert.Equal(30, PeriodDetector.DominantPeriod(x, 16, 32, 0.5));
    }

    [Fact]
    public void WhiteNoiseHasNoDominantPeriod()
    {
        // The ACF of 400 white-noise samples stays within ±3/√400 = 0.15 of 0, below 0.3.
        var gen = new SeriesGen(99);
        var x = new double[400];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = gen.Normal();
        }

        Assert.Equal(0, PeriodDetector.DominantPeriod(x, 4, 100));
    }
}
