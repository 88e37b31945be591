using Aiops.Core;

namespace Aiops.Detection.Tests;

public sealed class AnomalyLikelihoodTests
{
    private static readonly SeriesKey Key = new("svc", "metric", string.Empty);

    // Fixed suppression span (no fraction of the points seen) so the test can name the exact rows.
    // Trigger 0.3 = a Gaussian tail of 1e-3 (TailFloor 1e-10): uniform p-values give raw residual
    // surprises with mean = σ = 1/(12 ln 10) ≈ 0.036, so noise would need one p ≤ 1e-8 to reach it,
    // while a p = 1e-12 spike after 2,000 points gives z ≈ 3.6 (score ≈ 0.38) even with two earlier
    // spikes inflating σ.
    private static readonly LikelihoodOptions Fixed = new() { HoldTrigger = 0.3, HoldFraction = 0, HoldMin = 50, HoldMax = 50 };

    /// <summary>N(100, 1) values with uniform p-values (what a calibrated forecaster gives on noise), and planted spikes.</summary>
    private static (double Value, double P) Point(SeriesGen gen, Random uniform, int i, ReadOnlySpan<int> spikes)
    {
        var value = 100 + gen.Normal();
        var p = 1 - uniform.NextDouble(); // in (0, 1]
        if (spikes.Contains(i))
        {
            value += 12; // +12σ: a normal two-sided tail of ~3.6e-33
            p = 1e-12;
        }

        return (value, p);
    }

    [Fact]
    public void APlantedSpikeGetsTheHighestScoreAtItsIndex()
    {
        var gen = new SeriesGen(21);
        var uniform = new Random(22);
        var stage = new AnomalyLikelihood(Fixed);
        var best = -1;
        var bestScore = -1.0;
        double atSpike = 0;
        for (var i = 0; i < 2200; i++)
        {
            var (v, p) = Point(gen, uniform, i, [2000]);
            var s = stage.Update(v, p);
            if (i == 2000)
            {
                atSpike = s;
            }

            if (s > bestScore)
            {
                bestScore = s;
                best = i;
            }
        }

        Assert.Equal(2000, best);
        Assert.True(atSpike >= Fixed.HoldTrigger, $"score {atSpike} at the spike is below the trigger {Fixed.HoldTrigger}");
    }

    [Fact]
    public void NoiseAloneStaysBelowTheTrigger()
    {
        // Uniform p-values and N(100, 1) values are exactly what the raw-score distribution was modelled on.
        var gen = new SeriesGen(23);
        var uniform = new Random(24);
        var stage = new AnomalyLikelihood(Fixed);
        var max = 0.0;
        for (var i = 0; i < 3000; i++)
        {
            var (v, p) = Point(gen, uniform, i, []);
            max = Math.Max(max, stage.Update(v, p));
        }

        Assert.True(max < Fixed.HoldTrigger, $"noise reached {max}");
    }

    [Fact]
    public void SuppressionHoldsTheScoreDownForTheConfiguredSpanThenReleasesIt()
    {
        // Spike at 2000 starts a 50-point hold (rows 2001..2050); a second spike at 2020 falls inside it,
        // a third at 2100 (after the hold, the short mean decayed by (1 − 2/11)^80) does not.
        var gen = new SeriesGen(25);
        var uniform = new Random(26);
        var stage = new AnomalyLikelihood(Fixed);
        var scores = new double[2200];
        for (var i = 0; i < scores.Length; i++)
        {
            var (v, p) = Point(gen, uniform, i, [2000, 2020, 2100]);
            scores[i] = stage.Update(v, p);
        }

        Assert.True(scores[2000] >= Fixed.HoldTrigger, $"score {scores[2000]} at the first spike");
        for (var i = 2001; i <= 2050; i++)
        {
            Assert.Equal(0.0, scores[i]); // HoldFactor 0: silent during the hold, the spike at 420 included
        }

        Assert.True(scores[2100] >= Fixed.HoldTrigger, $"score {scores[2100]} after the hold ended");
    }

    [Fact]
    public void TheSuppressionSpanGrowsWithThePointsSeen()
    {
        // HoldFraction 0.1 after 3,000 points gives 300 points (clamped to [HoldMin = 10, HoldMax = 1000]).
        var options = Fixed with { HoldFraction = 0.1, HoldMin = 10, HoldMax = 1000 };
        var gen = new SeriesGen(27);
        var uniform = new Random(28);
        var stage = new AnomalyLikelihood(options);
        var scores = new double[3400];
        for (var i = 0; i < scores.Length; i++)
        {
            var (v, p) = Point(gen, uniform, i, [2999, 3250, 3320]);
            scores[i] = stage.Update(v, p);
        }

        Assert.True(scores[2999] >= options.HoldTrigger, $"score {scores[2999]} at the 3,000th point");
        Assert.Equal(0.0, scores[3250]); // inside the 300-point hold (3000..3299), though a 50-point hold would have ended
        Assert.True(scores[3320] >= options.HoldTrigger, $"score {scores[3320]} after the hold ended");
    }

    [Fact]
    public void ARepeatedSeasonalPatternIsNotFlaggedByTheDetector()
    {
        // A 60-point cycle (amplitude 20, noise σ 0.4) repeated 50 times with one +15 spike at 2,500
        // (inside the normal 30..70 range): the peaks of the cycle score below that spike.
        var gen = new SeriesGen(29);
        var d = new SeriesDetector(Key, MetricKind.Generic);
        var best = -1;
        var bestScore = -1.0;
        for (var i = 0; i < 3000; i++)
        {
            var v = 50 + (20 * Math.Sin(2 * Math.PI * i / 60)) + (gen.Normal() * 0.4) + (i == 2500 ? 15 : 0);
            var r = d.Update(SeriesGen.T0 + (i * SeriesGen.Minute), v);
            if (i >= 1000 && r.Score > bestScore)
            {
                bestScore = r.Score;
                best = i;
            }
        }

        Assert.Equal(2500, best);
        Assert.True(bestScore >= d.Profile.Likelihood.HoldTrigger, $"the spike scored {bestScore}");
    }

    [Fact]
    public void TheStageSnapshotRestoresToIdenticalScoresMidHold()
    {
        var gen = new SeriesGen(31);
        var uniform = new Random(32);
        var points = new (double V, double P)[2300];
        for (var i = 0; i < points.Length; i++)
        {
            points[i] = Point(gen, uniform, i, [2000, 2200]);
        }

        var original = new AnomalyLikelihood(Fixed);
        for (var i = 0; i < 2010; i++)
        {
            original.Update(points[i].V, points[i].P); // stops 10 points into the hold that 2000 starts
        }

        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            original.Write(w);
        }

        buffer.Position = 0;
        var restored = new AnomalyLikelihood(Fixed);
        using (var r = new BinaryReader(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            restored.Read(r);
        }

        Assert.Equal(buffer.Length, buffer.Position);
        var high = 0;
        for (var i = 2010; i < points.Length; i++)
        {
            var a = original.Update(points[i].V, points[i].P);
            var b = restored.Update(points[i].V, points[i].P);
            Assert.Equal(BitConverter.DoubleToInt64Bits(a), BitConverter.DoubleToInt64Bits(b));
            high += a >= Fixed.HoldTrigger ? 1 : 0;
        }

        Assert.True(high > 0, "the continuation includes a scored spike, not only silence");
    }

    [Fact]
    public void AnInvalidLikelihoodSettingIsReportedByProfileValidation()
    {
        var profile = DetectionProfile.Default(MetricKind.Generic) with { Likelihood = new LikelihoodOptions { HoldTrigger = 0 } };
        var errors = profile.Validate();
        Assert.Contains(errors, e => e.StartsWith("likelihood.hold", StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => new SeriesDetector(Key, MetricKind.Generic, profile));
    }
}
