using Aiops.Evaluation.Nab;

namespace Aiops.Evaluation.Tests;

/// <summary>
/// NAB scoring on tiny hand-made files. Hand computations use σ(x) = 2/(1 + e^{5x}) − 1 = −tanh(2.5x),
/// so σ(−1) = tanh(2.5) = 0.98661430; the tanh values were evaluated to 8+ digits by hand calculator.
/// </summary>
public class NabScorerTests
{
    private static readonly NabProfile Standard = NabProfile.Published[0];
    private static readonly NabProfile LowFn = NabProfile.Published[2];

    // 20 rows → probationary rows = min(floor(0.15·20), 750) = 3 (rows 0..2). One window, rows 8..11: W = 4, R = 11.
    private static readonly NabWindow[] OneWindow = [new NabWindow(8, 11)];

    [Theory]
    [InlineData(20, 3)] // floor(3.0)
    [InlineData(4000, 600)] // floor(600.0)
    [InlineData(4032, 604)] // floor(604.8)
    [InlineData(10000, 750)] // 1500 capped at 0.15·5000
    public void ProbationaryPeriodIsFifteenPercentCappedAt750(int rows, int expected) =>
        Assert.Equal(expected, NabScorer.ProbationaryRows(rows));

    [Fact]
    public void ScaledSigmoidMatchesThePublishedAnchorPoints()
    {
        // Anchor values in NAB's sweeper docstring: σ(−1) = 0.98661, σ(−0.5) = 0.84828, σ(0) = 0, σ(1) = −0.98661.
        Assert.Equal(0.98661, NabScorer.ScaledSigmoid(-1.0), 5);
        Assert.Equal(0.84828, NabScorer.ScaledSigmoid(-0.5), 5);
        Assert.Equal(0.0, NabScorer.ScaledSigmoid(0.0), 12);
        Assert.Equal(-0.98661, NabScorer.ScaledSigmoid(1.0), 5);
        Assert.Equal(-1.0, NabScorer.ScaledSigmoid(3.0)); // at or beyond 3 widths: exactly −1
    }

    [Fact]
    public void HandComputedFileWithTruePositiveAndBothKindsOfFalsePositiveScoresAsExpected()
    {
        var scores = new double[20];
        scores[1] = 1.0;  // probationary: ignored although it is the highest score
        scores[5] = 0.9;  // FP before any window: −fpWeight = −0.11
        scores[9] = 0.8;  // TP: position −(11 − 9 + 1)/4 = −0.75 → tanh(1.875)/tanh(2.5) = 0.95403402/0.98661430 = 0.96698909
        scores[10] = 0.8; // later detection in the same window: worth tanh(1.25)/tanh(2.5) = 0.85979257 < 0.96698909, so the window keeps 0.96698909
        scores[13] = 0.7; // FP after the window: |11 − 13|/(4 − 1) = 2/3 → σ = −tanh(5/3) = −0.93110961, × 0.11 = −0.10242206
        var scorer = new NabScorer([new NabScoredFile("cat/a.csv", scores, OneWindow)]);

        var result = scorer.ScoreAt(Standard, 0.5);

        // 0.96698909 − 0.11 − 0.10242206 = 0.75456703
        Assert.Equal(0.75456703, result.RawScore, 7);
        var file = Assert.Single(result.Files);
        Assert.Equal(1, file.DetectedWindows);
        Assert.Equal(0, file.MissedWindows);
        Assert.Equal(2, file.FalsePositiveRows); // rows 5 and 13; row 1 is probationary
    }

    [Fact]
    public void DetectionAtTheLeftEdgeOfAWindowEarnsTheFullTruePositiveWeight()
    {
        var scores = new double[20];
        scores[8] = 1.0; // position −(11 − 8 + 1)/4 = −1 → σ(−1)/σ(−1) = 1
        var scorer = new NabScorer([new NabScoredFile("cat/a.csv", scores, OneWindow)]);

        Assert.Equal(1.0, scorer.ScoreAt(Standard, 0.5).RawScore, 12);
    }

    [Fact]
    public void AMissedWindowCostsTheFalseNegativeWeight()
    {
        var scores = new double[20];
        scores[9] = 0.8; // detects the first window only
        NabWindow[] windows = [new NabWindow(8, 11), new NabWindow(15, 17)];
        var scorer = new NabScorer([new NabScoredFile("cat/a.csv", scores, windows)]);

        // standard: 0.96698909 (first window, as above) − 1 (fnWeight) = −0.03301091
        Assert.Equal(-0.03301091, scorer.ScoreAt(Standard, 0.5).RawScore, 7);

        // reward_low_FN_rate: fnWeight 2 → 0.96698909 − 2 = −1.03301091
        Assert.Equal(-1.03301091, scorer.ScoreAt(LowFn, 0.5).RawScore, 7);
    }

    [Fact]
    public void AFalsePositiveThreeWindowWidthsPastTheWindowCostsTheFullFalsePositiveWeight()
    {
        var scores = new double[40];
        scores[8] = 1.0;  // TP at the left edge: +1
        scores[20] = 1.0; // |11 − 20|/3 = 3 → σ = −1 exactly → −0.11
        var scorer = new NabScorer([new NabScoredFile("cat/a.csv", scores, OneWindow)]);

        // 40 rows → 6 probationary rows; 1 − 0.11 = 0.89
        Assert.Equal(0.89, scorer.ScoreAt(Standard, 0.5).RawScore, 12);
    }

    [Fact]
    public void ThresholdOptimisationPicksTheThresholdWithTheBestRawScore()
    {
        var scores = new double[20];
        scores[5] = 0.3;  // FP before the window: −0.11
        scores[9] = 0.6;  // TP 0.96698909
        scores[15] = 0.9; // FP: |11 − 15|/3 = 4/3 → −tanh(10/3) × 0.11 = −0.99745797 × 0.11 = −0.10972038
        var scorer = new NabScorer([new NabScoredFile("cat/a.csv", scores, OneWindow)]);

        // Candidates by hand: 1.1 → −1 (missed window); 0.9 → −1 − 0.10972038 = −1.10972038;
        // 0.6 → 0.96698909 − 0.10972038 = 0.85726871; 0.3 → 0.85726871 − 0.11 = 0.74726871; 0 → also
        // detects every other row: much worse.
        var curve = scorer.Sweep(Standard);
        Assert.Equal((1.1, -1.0), (curve[0].Threshold, curve[0].RawScore));
        Assert.Equal(-1.10972038, curve[1].RawScore, 7);
        Assert.Equal(0.85726871, curve[2].RawScore, 7);
        Assert.Equal(0.74726871, curve[3].RawScore, 7);

        var best = scorer.Score(Standard);
        Assert.Equal(0.6, best.Threshold);
        Assert.Equal(0.85726871, best.RawScore, 7);

        // Normalised: null = −1 (one window missed), perfect = 1 → 100 · (0.85726871 + 1)/2 = 92.863436
        Assert.Equal(92.863436, best.NormalizedScore, 5);
    }

    [Fact]
    public void DetectionRateViewReportsTheSweepAtTheTopFractionOfRows()
    {
        var scores = new double[20];
        scores[5] = 0.3;
        scores[9] = 0.6;
        scores[15] = 0.9;
        var scorer = new NabScorer([new NabScoredFile("cat/a.csv", scores, OneWindow)]);

        // 17 scored rows: the top 1/17 is row 15 alone (threshold 0.9), the top 2/17 adds row 9 (0.6);
        // raw scores as in the optimisation test above.
        var rates = scorer.AtDetectionRates(Standard, [1.0 / 17, 2.0 / 17]);

        Assert.Equal(0.9, rates[0].Threshold);
        Assert.Equal(-1.10972038, rates[0].RawScore, 7);
        Assert.Equal(0.6, rates[1].Threshold);
        Assert.Equal(0.85726871, rates[1].RawScore, 7);
    }

    [Fact]
    public void AmongEquallyGoodThresholdsTheHighestWins()
    {
        var scores = new double[20];
        scores[9] = 0.6;  // TP
        scores[10] = 0.5; // a later row of the same window: adds nothing, so 0.5 scores the same as 0.6
        var scorer = new NabScorer([new NabScoredFile("cat/a.csv", scores, OneWindow)]);

        Assert.Equal(0.6, scorer.Score(Standard).Threshold);
    }

    [Fact]
    public void ThresholdIsSharedAcrossFilesNotChosenPerFile()
    {
        // File a wants a low threshold (its TP has score 0.4); file b has a 0.5 FP right after
        // probation that costs 0.11 and no window. Per-file optimisation would give a: 0.96698909, b: 0;
        // one corpus threshold must trade: 0.4 → 0.96698909 − 0.11 = 0.85698909 beats 1.1 → −1.
        var a = new double[20];
        a[9] = 0.4;
        var b = new double[20];
        b[4] = 0.5;
        var scorer = new NabScorer([new NabScoredFile("cat/a.csv", a, OneWindow), new NabScoredFile("cat/b.csv", b, [])]);

        var result = scorer.Score(Standard);

        Assert.Equal(0.4, result.Threshold);
        Assert.Equal(0.85698909, result.RawScore, 7);
        Assert.Equal(-0.11, result.Files[1].RawScore, 12);
    }

    [Fact]
    public void NullDetectorNormalisesToZeroAndOracleToHundred()
    {
        // A constant score still lets the optimiser choose "detect every row"; as on NAB, the file
        // must have enough rows outside windows for that to be worse than never firing: here
        // 400 − 60 probationary − 20 window rows = 320 FP rows cost about 320 · 0.11 ≫ 2 windows.
        var zeros = new double[400];
        var oracle = new double[400];
        NabWindow[] windows = [new NabWindow(100, 109), new NabWindow(200, 209)];
        oracle[100] = 1;
        oracle[200] = 1;
        foreach (var profile in NabProfile.Published)
        {
            Assert.Equal(0.0, new NabScorer([new NabScoredFile("c/x.csv", zeros, windows)]).Score(profile).NormalizedScore, 12);
            Assert.Equal(100.0, new NabScorer([new NabScoredFile("c/x.csv", oracle, windows)]).Score(profile).NormalizedScore, 12);
        }
    }

    [Fact]
    public void PerFileContributionsAddUpToTheCorpusRawScore()
    {
        var a = new double[20];
        a[9] = 0.7;
        a[14] = 0.8;
        var b = new double[20];
        b[6] = 0.75;
        var scorer = new NabScorer([new NabScoredFile("c/a.csv", a, OneWindow), new NabScoredFile("c/b.csv", b, [new NabWindow(10, 12)])]);

        var result = scorer.Score(Standard);

        Assert.Equal(result.RawScore, result.Files[0].RawScore + result.Files[1].RawScore, 12);
    }

    [Fact]
    public void NaNScoresAndOverlappingWindowsAreRejectedWithAClearMessage()
    {
        var scores = new double[20];
        scores[3] = double.NaN;
        var nan = Assert.Throws<ArgumentException>(() => new NabScorer([new NabScoredFile("c/a.csv", scores, OneWindow)]));
        Assert.Contains("row 3 is NaN", nan.Message, StringComparison.Ordinal);

        var overlap = Assert.Throws<ArgumentException>(() => new NabScorer([new NabScoredFile("c/a.csv", new double[20], [new NabWindow(5, 9), new NabWindow(9, 12)])]));
        Assert.Contains("overlap", overlap.Message, StringComparison.Ordinal);
    }
}
