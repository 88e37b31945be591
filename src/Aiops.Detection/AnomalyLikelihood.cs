using MathNet.Numerics;

namespace Aiops.Detection;

/// <summary>
/// Settings of <see cref="AnomalyLikelihood"/>, the stage that turns the detector's per-point
/// evidence into the published <see cref="DetectionResult.Score"/>. Defaults were chosen on the
/// NAB corpus with one threshold per profile over all 58 files (standard 61.12, low-FP 46.13, low-FN
/// 68.05 since <see cref="ResidualLog10Scale"/> went from 12 to 36; the progression is in the commit messages).
/// </summary>
public sealed record LikelihoodOptions
{
    /// <summary>Whether the score is the anomaly likelihood (true) or the raw evidence score of the detectors.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Points the stage learns from before it outputs anything but 0 (NAB's shortest probation is 150 rows of a 1,000-row file).</summary>
    public int LearnPoints { get; init; } = 150;

    /// <summary>Effective length (points) of the slow exponential moments of the value distribution.</summary>
    public int ValueWindow { get; init; } = 4000;

    /// <summary>Points averaged in the fast window compared against the slow value distribution.</summary>
    public int FastWindow { get; init; } = 14;

    /// <summary>Weight of the residual surprise (−log p of the forecast residual) in the raw score.</summary>
    public double ResidualWeight { get; init; } = 1.0;

    /// <summary>Weight of the fast-vs-slow distribution surprise in the raw score.</summary>
    public double DistributionWeight { get; init; } = 1.0;

    /// <summary>Weight of the third channel, the detectors' own evidence score (martingale, CUSUM, spike); 0 leaves it out.</summary>
    public double EvidenceWeight { get; init; }

    /// <summary>
    /// −log10 p that maps to a residual surprise of 1 (the surprise is capped there). For a normal
    /// tail −log10 p ≈ z²/4.6, so 12 capped every residual beyond z ≈ 7.4 at the same surprise and
    /// a 50σ outage ranked with an 8σ blip; 36 keeps residuals up to z ≈ 13 apart. On the NAB
    /// corpus (one threshold per profile over all 58 files): 12 → 56.65 standard, 24 → 58.69,
    /// 32 → 60.16, 36 → 61.12, 40 → 60.80, 44 → 58.73, 60 → 57.30.
    /// </summary>
    public double ResidualLog10Scale { get; init; } = 36.0;

    /// <summary>Effective length (points) of the slow moments of the raw score (Ahmad et al. 2017 use a long window W).</summary>
    public int RawWindow { get; init; } = 8000;

    /// <summary>Points averaged in the short window of raw scores (W′ in Ahmad et al. 2017; 10 there).</summary>
    public int ShortWindow { get; init; } = 10;

    /// <summary>Smallest standard deviation of the raw score used in the tail probability (a flat series must not divide by 0).</summary>
    public double MinRawSigma { get; init; } = 0.02;

    /// <summary>Tail probability mapped to score 1 by the log scale: score = log(tail)/log(this).</summary>
    public double TailFloor { get; init; } = 1e-10;

    /// <summary>Score at or above which the suppression starts.</summary>
    public double HoldTrigger { get; init; } = 0.3;

    /// <summary>Suppression length as a fraction of the points seen so far (NAB windows are 10% of a file shared among its anomalies).</summary>
    public double HoldFraction { get; init; } = 0.05;

    /// <summary>Shortest suppression (points).</summary>
    public int HoldMin { get; init; } = 50;

    /// <summary>Longest suppression (points).</summary>
    public int HoldMax { get; init; } = 1000;

    /// <summary>Factor applied to the score while suppressed (0 = silent).</summary>
    public double HoldFactor { get; init; }

    /// <summary>
    /// Whether the slow value mean restarts at the fast-window mean when a hold ends: after a level
    /// shift the hold covers the anomaly, and the new level is the normal from then on (otherwise
    /// the distribution channel fires again for as long as the slow mean takes to follow).
    /// </summary>
    public bool RebaseAfterHold { get; init; }

    /// <summary>
    /// Whether the two channels' tails are multiplied (log-tails added, as in Fisher's combination
    /// of p-values) instead of taking the larger score: moderate surprise in both channels then counts.
    /// </summary>
    public bool CombineTails { get; init; } = true;

    /// <summary>Appends one message per invalid field to <paramref name="errors"/>.</summary>
    internal void Validate(ref List<string>? errors)
    {
        if (!(LearnPoints >= 0))
        {
            (errors ??= []).Add($"likelihood.learnPoints: must be >= 0, got {LearnPoints}");
        }

        if (!(ValueWindow >= 2 && RawWindow >= 2))
        {
            (errors ??= []).Add($"likelihood.valueWindow/rawWindow: must be >= 2, got {ValueWindow}/{RawWindow}");
        }

        if (!(FastWindow is >= 1 and <= AnomalyLikelihood.MaxRing && ShortWindow is >= 1 and <= AnomalyLikelihood.MaxRing))
        {
            (errors ??= []).Add($"likelihood.fastWindow/shortWindow: must be in [1, {AnomalyLikelihood.MaxRing}], got {FastWindow}/{ShortWindow}");
        }

        if (!(ResidualWeight >= 0 && DistributionWeight >= 0 && EvidenceWeight >= 0 && ResidualLog10Scale > 0 && MinRawSigma > 0))
        {
            (errors ??= []).Add("likelihood.residualWeight/distributionWeight: must be >= 0; residualLog10Scale and minRawSigma > 0");
        }

        if (!(TailFloor is > 0 and < 1))
        {
            (errors ??= []).Add($"likelihood.tailFloor: must be in (0, 1), got {TailFloor}");
        }

        if (!(HoldTrigger is > 0 and <= 1 && HoldFraction >= 0 && HoldMin >= 0 && HoldMax >= HoldMin && HoldFactor is >= 0 and <= 1))
        {
            (errors ??= []).Add("likelihood.hold*: holdTrigger in (0, 1], holdFraction >= 0, 0 <= holdMin <= holdMax, holdFactor in [0, 1]");
        }
    }
}

/// <summary>
/// Streaming anomaly likelihood with suppression: the stage that makes one score threshold work
/// across very different series.
/// </summary>
/// <remarks>
/// <para>Two raw surprises per point: (a) the residual surprise −log10(p)/scale of the forecast
/// residual's p-value and (b) the distribution surprise 1 − 2Q(z) of a fast mean of the values
/// (exponential, span <c>FastWindow</c>) against slow exponential moments of the value (a
/// fast-vs-slow window comparison, as in windowed-Gaussian and CAD-style detectors).</para>
/// <para>Likelihood (Ahmad, Lavin, Purdy &amp; Agha 2017, "Unsupervised real-time anomaly detection
/// for streaming data", Neurocomputing 262, eqs. 3–6), per surprise: the raw scores are modelled as
/// a normal distribution with slow moments μ, σ; a short mean μ̃ of the raw scores gives the tail
/// Q((μ̃ − μ)/σ) and the score log(tail)/log(TailFloor), clipped to [0, 1], so a series whose raw
/// scores are always high is not always anomalous. The larger of the two scores is returned.</para>
/// <para>Suppression: NAB counts every detected row outside a window as a false positive and only
/// the earliest one inside a window, so after the score reaches <c>HoldTrigger</c> it is multiplied
/// by <c>HoldFactor</c> for a span proportional to the points seen so far.</para>
/// <para>Cost: O(1) per point, no allocation. The short windows are exponential means with the
/// same centre of mass as an N-point box (α = 2/(N + 1)) rather than rings, which keeps the whole
/// state at ≈ 120 bytes: the detector's 4 KiB budget had only ≈ 240 bytes left.</para>
/// </remarks>
internal sealed class AnomalyLikelihood
{
    /// <summary>Largest fast/short window.</summary>
    public const int MaxRing = 1000;

    private readonly LikelihoodOptions _o;
    private long _n;
    private double _valueFast;
    private double _valueMean;
    private double _valueVar;
    private double _rawShort;
    private double _rawMean;
    private double _rawVar;
    private double _distShort;
    private double _distMean;
    private double _distVar;
    private double _evShort;
    private double _evMean;
    private double _evVar;
    private int _hold;

    public AnomalyLikelihood(LikelihoodOptions options) => _o = options;

    public static int StateBytes => 144;

    /// <summary>Scores one accepted point.</summary>
    /// <param name="value">The observed value.</param>
    /// <param name="pValue">The p-value of its forecast residual (1 while the forecaster is not warm).</param>
    /// <param name="evidence">The detectors' own score in [0, 1] (third channel, used when <c>EvidenceWeight</c> &gt; 0).</param>
    public double Update(double value, double pValue, double evidence = 0)
    {
        var o = _o;
        _n++;

        // Fast mean of the values against the slow value distribution.
        _valueFast = _n == 1 ? value : _valueFast + (Span(o.FastWindow) * (value - _valueFast));
        double distSurprise = 0;
        if (_n > 1)
        {
            var sigma = Math.Sqrt(_valueVar) + (1e-9 * (1 + Math.Abs(_valueMean)));
            var z = Math.Abs(_valueFast - _valueMean) / sigma;
            distSurprise = 1 - SpecialFunctions.Erfc(z * 0.7071067811865476);
        }

        UpdateMoments(ref _valueMean, ref _valueVar, value, o.ValueWindow);

        var p = Math.Clamp(pValue, 1e-300, 1);
        var residualSurprise = Math.Min(1, -Math.Log10(p) / o.ResidualLog10Scale);

        // Each raw surprise gets its own likelihood (its own scale), and the larger score wins: the
        // residual channel catches breaks of the short-term dynamics, the distribution channel
        // level changes the forecaster follows too quickly.
        var tailResidual = Channel(residualSurprise, ref _rawShort, ref _rawMean, ref _rawVar);
        var tailDistribution = Channel(distSurprise, ref _distShort, ref _distMean, ref _distVar);
        var tailEvidence = Channel(evidence, ref _evShort, ref _evMean, ref _evVar);

        if (_n <= o.LearnPoints)
        {
            return 0;
        }

        var logFloor = Math.Log(o.TailFloor);
        var residualScore = o.ResidualWeight * Math.Log(Math.Max(tailResidual, 1e-300)) / logFloor;
        var distributionScore = o.DistributionWeight * Math.Log(Math.Max(tailDistribution, 1e-300)) / logFloor;
        var evidenceScore = o.EvidenceWeight * Math.Log(Math.Max(tailEvidence, 1e-300)) / logFloor;
        var score = Math.Clamp(o.CombineTails ? residualScore + distributionScore + evidenceScore : Math.Max(Math.Max(residualScore, distributionScore), evidenceScore), 0, 1);
        if (_hold > 0)
        {
            _hold--;
            if (_hold == 0 && o.RebaseAfterHold)
            {
                _valueMean = _valueFast;
            }

            return score * o.HoldFactor;
        }

        if (score >= o.HoldTrigger)
        {
            _hold = (int)Math.Clamp(o.HoldFraction * _n, o.HoldMin, o.HoldMax);
        }

        return score;
    }

    private static double Span(int points) => 2.0 / (points + 1);

    /// <summary>Short mean of raw scores against their slow moments (Ahmad et al. 2017, eqs. 4–6); returns the Gaussian tail Q.</summary>
    private double Channel(double raw, ref double shortMean, ref double mean, ref double variance)
    {
        // One non-finite input would stay in the running moments forever.
        raw = double.IsFinite(raw) ? raw : 1;
        shortMean = _n == 1 ? raw : shortMean + (Span(_o.ShortWindow) * (raw - shortMean));
        var sigma = Math.Max(Math.Sqrt(variance), _o.MinRawSigma);
        var z = (shortMean - mean) / sigma;
        var tail = 0.5 * SpecialFunctions.Erfc(z * 0.7071067811865476);
        UpdateMoments(ref mean, ref variance, raw, _o.RawWindow);
        return tail;
    }

    private void UpdateMoments(ref double mean, ref double variance, double x, int window)
    {
        // Exponential moments with weight max(1/n, 1/window): the exact mean/variance while n < window.
        var a = Math.Max(1.0 / _n, 1.0 / window);
        var d = x - mean;
        mean += a * d;
        variance = (1 - a) * (variance + (a * d * d));
    }

    public void Write(BinaryWriter w)
    {
        w.Write(_n);
        w.Write(_valueFast);
        w.Write(_valueMean);
        w.Write(_valueVar);
        w.Write(_rawShort);
        w.Write(_rawMean);
        w.Write(_rawVar);
        w.Write(_distShort);
        w.Write(_distMean);
        w.Write(_distVar);
        w.Write(_evShort);
        w.Write(_evMean);
        w.Write(_evVar);
        w.Write(_hold);
    }

    public void Read(BinaryReader r)
    {
        _n = r.ReadInt64();
        _valueFast = r.ReadDouble();
        _valueMean = r.ReadDouble();
        _valueVar = r.ReadDouble();
        _rawShort = r.ReadDouble();
        _rawMean = r.ReadDouble();
        _rawVar = r.ReadDouble();
        _distShort = r.ReadDouble();
        _distMean = r.ReadDouble();
        _distVar = r.ReadDouble();
        _evShort = r.ReadDouble();
        _evMean = r.ReadDouble();
        _evVar = r.ReadDouble();
        _hold = r.ReadInt32();
        if (_n < 0 || _hold < 0)
        {
            throw new InvalidDataException($"Snapshot field likelihood has a negative counter (n = {_n}, hold = {_hold}).");
        }
    }
}
