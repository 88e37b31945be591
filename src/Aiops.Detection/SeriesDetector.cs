using System.Globalization;
using System.Text;
using Aiops.Core;
using MathNet.Numerics;

namespace Aiops.Detection;

/// <summary>
/// Streaming detector of one series: a seasonal profile (period found from the data) plus an SSA
/// forecast of the remainder give the expected value and band of every point; the residual's
/// p-value against recent residuals scores spikes; a power martingale over those p-values finds
/// change points; CUSUM on standardised deviations from a slow reference level finds small
/// persistent shifts; Mann–Kendall + Theil–Sen on block means find leaks (with time to exhaustion);
/// a Bernoulli CUSUM on errors out of requests finds small error-rate increases; a relative CUSUM
/// finds tail-latency shifts.
/// </summary>
/// <remarks>
/// Cost per accepted point is O(L + W) (L = 16-term recurrence, W = 64 residuals) plus refits
/// amortised every k = 32 points; nothing is allocated per point unless a verdict is raised and a
/// verdict list was given. State is ≈ 3.5 KiB with the default profile (arrays sized once by the
/// profile; scratch matrices are thread-static). Not thread-safe: one series is fed by one thread.
/// </remarks>
public sealed class SeriesDetector
{
    private const uint Magic = 0x54454441; // "ADET" little-endian
    private const byte FormatVersion = 2; // nab: 2 adds the likelihood state

    private readonly SsaForecaster _ssa;
    private readonly ResidualDistribution _residuals;
    private readonly SeasonalModel _season;
    private readonly TrendDetector _trend;
    private readonly AnomalyLikelihood _likelihood; // nab: NAB-style score stage

    private long _accepted;
    private long _nonFinite;
    private long _outOfOrder;
    private long _duplicates;
    private long _gaps;
    private long _invalidRates;
    private long _lastTs;
    private double _intervalMs;
    private int _sinceRefit;
    private int _substituted;
    private double _lastExpected;
    private int _quiet;

    private double _logMartingale;
    private long _martingaleStartTs;
    private int _cooldownChange;

    private bool _levelInit;
    private long _levelUpdates;
    private double _level;
    private double _levelAbsDev;
    private double _levelVar;
    private double _levelLag1;
    private double _levelLastDev;
    private double _cusumPos;
    private double _cusumNeg;
    private long _posStartTs;
    private long _negStartTs;
    private double _posSum;
    private double _negSum;
    private int _posN;
    private int _negN;
    private int _cooldownLevel;

    private double _tailRef;
    private double _tailAbsDev;
    private double _tailCusum;
    private long _tailStartTs;
    private double _tailSum;
    private int _tailN;
    private int _cooldownTail;

    private double _rateErrors;
    private double _rateRequests;
    private double _rateCusum;
    private long _rateStartTs;
    private double _rateExcessErrors;
    private double _rateExcessRequests;
    private int _cooldownRate;

    /// <summary>Creates a detector for a series with the built-in profile of its kind, or the given one.</summary>
    /// <exception cref="ArgumentException">The profile fails <see cref="DetectionProfile.Validate"/>.</exception>
    public SeriesDetector(SeriesKey series, MetricKind kind, DetectionProfile? profile = null)
    {
        profile ??= ProfileSet.BuiltIn.For(kind);
        var errors = profile.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException($"Invalid detection profile for {kind}: {string.Join("; ", errors)}", nameof(profile));
        }

        Series = series;
        Kind = kind;
        Profile = profile;
        _ssa = new SsaForecaster(profile.SsaWindow, profile.SsaHistory, profile.SsaRank);
        _residuals = new ResidualDistribution(profile.ResidualWindow);
        _season = new SeasonalModel(profile);
        _trend = new TrendDetector(profile.TrendBlockPoints, profile.TrendBlocks);
        _likelihood = new AnomalyLikelihood(profile.Likelihood); // nab
    }

    /// <summary>The series this detector watches.</summary>
    public SeriesKey Series { get; }

    /// <summary>What the series measures.</summary>
    public MetricKind Kind { get; }

    /// <summary>The profile the detector was built with.</summary>
    public DetectionProfile Profile { get; }

    /// <summary>Counters of accepted and set-aside points.</summary>
    public SeriesCounters Counters => new(_accepted, _nonFinite, _outOfOrder, _duplicates, _gaps, _invalidRates);

    /// <summary>The seasonal period in use (ms), 0 when the series has no dominant season.</summary>
    public long SeasonPeriodMs => _season.PeriodMs;

    /// <summary>The estimated sampling interval (ms), 0 before two points.</summary>
    public double IntervalMs => _intervalMs;

    /// <summary>Event time of the last accepted point.</summary>
    public long LastTimestampMs => _lastTs;

    /// <summary>Approximate bytes of state held by this detector (arrays and fields; the profile is shared).</summary>
    public int StateBytes => 400 + _ssa.StateBytes + _residuals.StateBytes + _season.StateBytes + _trend.StateBytes + AnomalyLikelihood.StateBytes;

    /// <summary>Feeds one point; returns the expected value, band, p-value, score and fired detectors.</summary>
    /// <param name="timestampMs">Event time, Unix ms; must increase.</param>
    /// <param name="value">Observed value (for error rates a fraction in [0, 1]).</param>
    /// <param name="total">Request count behind an error-rate value; 0 otherwise.</param>
    public DetectionResult Update(long timestampMs, double value, double total = 0) => UpdateCore(timestampMs, value, total, null);

    /// <summary>As <see cref="Update(long, double, double)"/>, and appends a verdict with evidence to <paramref name="verdicts"/> for every detector that fired.</summary>
    public DetectionResult Update(long timestampMs, double value, double total, List<Anomaly>? verdicts) => UpdateCore(timestampMs, value, total, verdicts);

    private DetectionResult Reject(long ts, double value, PointStatus status) => new()
    {
        TimestampMs = ts,
        Observed = value,
        Expected = _lastExpected,
        Lower = _lastExpected,
        Upper = _lastExpected,
        PValue = 1,
        Score = 0,
        Status = status,
        IsWarm = IsWarm,
    };

    private bool IsWarm => _accepted >= Profile.WarmupPoints && _ssa.IsFitted;

    private DetectionResult UpdateCore(long ts, double value, double total, List<Anomaly>? verdicts)
    {
        var profile = Profile;
        if (!double.IsFinite(value) || !double.IsFinite(total) || total < 0)
        {
            _nonFinite++;
            return Reject(ts, value, PointStatus.NonFinite);
        }

        var rateTest = profile.RateTestEnabled && total > 0;
        if (rateTest && (value < 0 || value > 1))
        {
            _invalidRates++;
            return Reject(ts, value, PointStatus.InvalidRate);
        }

        if (_accepted > 0)
        {
            if (ts < _lastTs)
            {
                _outOfOrder++;
                return Reject(ts, value, PointStatus.OutOfOrder);
            }

            if (ts == _lastTs)
            {
                _duplicates++;
                return Reject(ts, value, PointStatus.Duplicate);
            }

            var delta = (double)(ts - _lastTs);
            if (_intervalMs <= 0)
            {
                _intervalMs = delta;
            }
            else if (delta > profile.GapIntervals * _intervalMs)
            {
                _gaps++;
            }
            else
            {
                _intervalMs += 0.05 * (delta - _intervalMs);
            }
        }

        var warm = IsWarm;
        var seasonal = _season.Expected(ts);
        var forecast = _ssa.Count > 0 ? _ssa.Forecast() : value - seasonal;
        var expected = seasonal + forecast;
        var residual = value - expected;
        var pValue = warm ? _residuals.PValue(residual, profile.Direction) : 1.0;
        var scale = _residuals.Scale;
        var center = expected + _residuals.Median;
        var half = profile.BandSigmas * scale;
        var deseasonalised = value - seasonal;
        var fired = DetectorFlags.None;
        double evidence = 0;
        double sequential = 0;

        // Spike: p-value of the residual (score 0.5 at exactly SpikePValue).
        var spike = warm && pValue <= profile.SpikePValue;
        if (warm)
        {
            // p = 0 happens (a residual beyond every kept one with a zero-width tail); 1e-300 keeps
            // the evidence finite, otherwise e/(1+e) below is NaN and poisons the score stage.
            evidence = Math.Log(Math.Max(pValue, 1e-300)) / Math.Log(profile.SpikePValue);
        }

        if (spike)
        {
            fired |= DetectorFlags.Spike;
        }

        // Change point: CUSUM-type power martingale over p-values (Vovk, Nouretdinov & Gammerman 2003;
        // bet ε p^(ε−1), log martingale restarted at 0 when it falls below its start, Ville's inequality bounds false alarms).
        double martingaleAtFire = 0;
        long martingaleSince = 0;
        if (warm)
        {
            var p = Math.Max(pValue, profile.MartingalePFloor);
            var bet = Math.Log(profile.MartingaleEpsilon) + ((profile.MartingaleEpsilon - 1) * Math.Log(p));
            if (_logMartingale <= 0)
            {
                _martingaleStartTs = ts;
            }

            _logMartingale = Math.Max(0, _logMartingale + bet);
            sequential = Math.Max(sequential, _logMartingale / profile.MartingaleLogThreshold);
            if (_logMartingale >= profile.MartingaleLogThreshold)
            {
                if (_cooldownChange == 0)
                {
                    fired |= DetectorFlags.ChangePoint;
                    martingaleAtFire = _logMartingale;
                    martingaleSince = _martingaleStartTs;
                    _cooldownChange = profile.CooldownPoints;
                    _substituted = profile.MaxSubstitutedPoints; // a new regime: stop holding the old level in the history
                }

                _logMartingale = 0;
            }
        }

        // Level shift: two-sided CUSUM (Page 1954) on (d − level)/σ against a slow reference level.
        double shiftMean = 0;
        double shiftFrom = 0;
        long shiftSince = 0;
        int shiftN = 0;
        var shiftDirection = Direction.None;
        if (!_levelInit)
        {
            _levelInit = true;
            _level = deseasonalised;
        }

        // σ is the long-run standard deviation of the mean: for AR(1)-like deviations with lag-1
        // correlation ρ, Var(mean of n) ≈ σ²(1 + ρ)/((1 − ρ) n), so correlated noise (φ = 0.9 → ×4.4)
        // does not read as a sustained shift.
        var rho = _levelVar > 0 ? Math.Clamp(_levelLag1 / _levelVar, 0, 0.95) : 0;
        // Never below the one-step residual scale: a series that sat still for a while (absolute
        // deviation ≈ 0) must not turn its first wiggle into a 10^9σ shift.
        var levelSigma = Math.Max(Math.Max(1.2533 * _levelAbsDev * Math.Sqrt((1 + rho) / (1 - rho)), scale), ScaleFloor());
        var levelDev = deseasonalised - _level;
        var zLevel = levelDev / levelSigma;
        if (_cusumPos <= 0)
        {
            _posStartTs = ts;
            _posSum = 0;
            _posN = 0;
        }

        if (_cusumNeg <= 0)
        {
            _negStartTs = ts;
            _negSum = 0;
            _negN = 0;
        }

        if (warm)
        {
            _cusumPos = Math.Max(0, _cusumPos + zLevel - profile.CusumK);
            _cusumNeg = Math.Max(0, _cusumNeg - zLevel - profile.CusumK);
        }

        if (_cusumPos > 0)
        {
            _posSum += deseasonalised;
            _posN++;
        }

        if (_cusumNeg > 0)
        {
            _negSum += deseasonalised;
            _negN++;
        }

        if (warm)
        {
            var up = profile.Direction != AlertDirection.Down ? _cusumPos : 0;
            var down = profile.Direction != AlertDirection.Up ? _cusumNeg : 0;
            sequential = Math.Max(sequential, Math.Max(up, down) / profile.CusumH);
        }

        if (_cusumPos >= profile.CusumH || _cusumNeg >= profile.CusumH)
        {
            var isUp = _cusumPos >= profile.CusumH;
            shiftMean = isUp ? _posSum / Math.Max(1, _posN) : _negSum / Math.Max(1, _negN);
            shiftSince = isUp ? _posStartTs : _negStartTs;
            shiftN = isUp ? _posN : _negN;
            shiftDirection = isUp ? Direction.Up : Direction.Down;
            var allowed = profile.Direction == AlertDirection.Both || (isUp ? profile.Direction == AlertDirection.Up : profile.Direction == AlertDirection.Down);
            var material = Math.Abs(shiftMean - _level) >= Math.Max(profile.LevelMinShiftSigmas * scale, profile.LevelMinLongRunSigmas * levelSigma);
            if (warm && allowed && material && _cooldownLevel == 0)
            {
                fired |= DetectorFlags.LevelShift;
                _cooldownLevel = profile.CooldownPoints;
            }

            // Rebase on the new level either way: the shift is the new normal from here on.
            shiftFrom = _level;
            _level = shiftMean;
            _cusumPos = 0;
            _cusumNeg = 0;
        }
        else if (!spike && _cusumPos < profile.CusumH / 2 && _cusumNeg < profile.CusumH / 2)
        {
            _levelUpdates++;
            var a = Math.Max(profile.LevelAlpha, 1.0 / _levelUpdates);
            _level += a * (deseasonalised - _level);
            _levelAbsDev += a * (Math.Abs(deseasonalised - _level) - _levelAbsDev);
            _levelVar += a * ((levelDev * levelDev) - _levelVar);
            _levelLag1 += a * ((levelDev * _levelLastDev) - _levelLag1);
        }

        _levelLastDev = levelDev;

        // Tail latency: CUSUM of the relative deviation above (1 + δ/2), standardised by its typical size.
        double tailMean = 0;
        long tailSince = 0;
        if (profile.TailShiftEnabled)
        {
            if (_tailRef == 0 && deseasonalised > 0)
            {
                _tailRef = deseasonalised;
            }

            if (_tailRef > 0)
            {
                var rel = (deseasonalised / _tailRef) - 1;
                var sigma = Math.Max(1.2533 * _tailAbsDev, profile.TailMinRelativeShift / 8);
                if (_tailCusum <= 0)
                {
                    _tailStartTs = ts;
                    _tailSum = 0;
                    _tailN = 0;
                }

                if (warm)
                {
                    _tailCusum = Math.Max(0, _tailCusum + ((rel - (profile.TailMinRelativeShift / 2)) / sigma));
                }

                if (_tailCusum > 0)
                {
                    _tailSum += rel;
                    _tailN++;
                }

                if (warm)
                {
                    sequential = Math.Max(sequential, _tailCusum / profile.CusumH);
                }

                if (_tailCusum >= profile.CusumH)
                {
                    tailMean = _tailSum / Math.Max(1, _tailN);
                    tailSince = _tailStartTs;
                    if (tailMean >= profile.TailMinRelativeShift)
                    {
                        if (warm && _cooldownTail == 0)
                        {
                            fired |= DetectorFlags.TailLatency;
                            _cooldownTail = profile.CooldownPoints;
                        }

                        _tailRef *= 1 + tailMean;
                    }

                    _tailCusum = 0;
                }
                else if (!spike && _tailCusum < profile.CusumH / 2)
                {
                    var a = Math.Max(profile.LevelAlpha, 1.0 / Math.Max(1, _levelUpdates));
                    _tailRef += a * (deseasonalised - _tailRef);
                    _tailAbsDev += a * (Math.Abs(rel) - _tailAbsDev);
                }
            }
        }

        // Error rate: Bernoulli CUSUM (log-likelihood ratio of p1 = p0(1 + δ) against the baseline p0).
        double rateBaseline = 0;
        if (rateTest)
        {
            var errors = value * total;
            var p0 = _rateRequests > 0 ? Math.Max(profile.RateFloor, _rateErrors / _rateRequests) : profile.RateFloor;
            var p1 = Math.Min(0.999, p0 * (1 + profile.RateRelativeIncrease));
            rateBaseline = p0;
            var llr = (errors * Math.Log(p1 / p0)) + ((total - errors) * Math.Log((1 - p1) / (1 - p0)));
            if (_rateCusum <= 0)
            {
                _rateStartTs = ts;
                _rateExcessErrors = 0;
                _rateExcessRequests = 0;
            }

            // Until the baseline has seen enough requests the test only learns (a CUSUM against the
            // floor rate would start far above its threshold and freeze the baseline forever).
            var ready = warm && _rateRequests >= profile.RateMinBaselineRequests;
            _rateCusum = ready ? Math.Max(0, _rateCusum + llr) : 0;
            if (_rateCusum > 0)
            {
                _rateExcessErrors += errors;
                _rateExcessRequests += total;
            }

            if (ready)
            {
                sequential = Math.Max(sequential, _rateCusum / profile.RateLogThreshold);
            }

            if (_rateCusum >= profile.RateLogThreshold && ready)
            {
                if (_cooldownRate == 0)
                {
                    fired |= DetectorFlags.RateIncrease;
                    _cooldownRate = profile.CooldownPoints;
                }

                _rateCusum = 0;
            }
            else if (_rateCusum < profile.RateLogThreshold / 4)
            {
                var decay = Math.Pow(2, -1 / profile.RateBaselineHalfLife);
                _rateErrors = (_rateErrors * decay) + errors;
                _rateRequests = (_rateRequests * decay) + total;
            }
        }

        // Trend on block means of the deseasonalised value (a spike contributes its forecast instead).
        TrendDetector.Verdict trend = default;
        var trendTested = profile.TrendEnabled && _trend.Add(ts, spike ? forecast : deseasonalised, _intervalMs, profile, out trend);
        if (trendTested && trend.Fired && warm)
        {
            fired |= DetectorFlags.Trend;
            sequential = Math.Max(sequential, 1);
        }

        // Learn: the SSA history gets the forecast instead of a spike for a few points (no poisoning),
        // then accepts the new level; the seasonal profile never learns from a spike.
        if (spike && _substituted < profile.MaxSubstitutedPoints)
        {
            _ssa.Push(forecast);
            _substituted++;
        }
        else
        {
            _ssa.Push(deseasonalised);
            if (!spike)
            {
                _substituted = 0;
            }
        }

        _residuals.Push(residual);
        if (profile.SeasonalityEnabled && !spike)
        {
            _season.Update(ts, value, _intervalMs);
        }

        _accepted++;
        _lastTs = ts;
        _lastExpected = expected;
        if (++_sinceRefit >= profile.RefitInterval)
        {
            _sinceRefit = 0;
            Refit(ts, value);
        }

        if (_cooldownChange > 0)
        {
            _cooldownChange--;
        }

        if (_cooldownLevel > 0)
        {
            _cooldownLevel--;
        }

        if (_cooldownTail > 0)
        {
            _cooldownTail--;
        }

        if (_cooldownRate > 0)
        {
            _cooldownRate--;
        }

        // Score: the spike evidence of this point, plus the sequential detectors' evidence only on the
        // point where one fires (a CUSUM or martingale stays high for many points after a change,
        // and NAB counts every row above the threshold as a detection); after any firing the score
        // is damped for CooldownPoints rows so one episode scores once, early.
        if (fired != DetectorFlags.None)
        {
            evidence = Math.Max(evidence, sequential);
        }
        else
        {
            evidence = Math.Max(evidence, profile.SequentialScoreWeight * sequential);
        }

        // e/(1 + e): 0.5 at a threshold, and no saturation to exactly 1.0 (p-values of 1e-300 would
        // otherwise all tie with the real detections at the top of the ranking).
        var score = evidence / (1 + evidence);
        if (_quiet > 0)
        {
            _quiet--;
            score *= profile.QuietScoreFactor;
        }

        if (fired != DetectorFlags.None)
        {
            _quiet = profile.CooldownPoints;
        }

        // The per-point alert score goes through the likelihood stage (calibrated across series,
        // suppressed after a detection); verdicts keep the detectors' own evidence score, which the
        // correlator's minimum-score gate is tuned on.
        var alertScore = profile.Likelihood.Enabled ? _likelihood.Update(value, pValue, score) : score; // nab: anomaly likelihood + suppression

        var result = new DetectionResult
        {
            TimestampMs = ts,
            Observed = value,
            Expected = expected,
            Lower = center - half,
            Upper = center + half,
            PValue = pValue,
            Score = score,
            Fired = fired,
            Status = PointStatus.Accepted,
            IsWarm = warm,
        };

        if (verdicts is not null && fired != DetectorFlags.None)
        {
            AddVerdicts(verdicts, in result, martingaleAtFire, martingaleSince, shiftMean, shiftFrom, shiftSince, shiftN, shiftDirection, levelSigma, tailMean, tailSince, rateBaseline, in trend);
        }

        return result with { Score = alertScore };
    }

    private double ScaleFloor() => 1e-9 + (1e-6 * Math.Abs(_level));

    private void Refit(long ts, double value)
    {
        var profile = Profile;
        _ssa.Refit(profile.FullDecompositionEvery);
        _residuals.Refit(ScaleFloor());
        if (!profile.SeasonalityEnabled)
        {
            return;
        }

        if (_ssa.Count >= profile.SsaHistory && _intervalMs > 0)
        {
            Span<double> history = stackalloc double[profile.SsaHistory];
            _ssa.CopyHistory(history);
            // Periods shorter than the SSA window are already modelled by the SSA components.
            var period = PeriodDetector.DominantPeriod(history, profile.SsaWindow, profile.SsaHistory / 2, 0.5);
            if (period > 0)
            {
                _season.OfferPeriod(period, _intervalMs);
            }
        }

        if (_season.Reselect(ts))
        {
            // The deseasonalised history was computed with the old profile: restart it at the current level.
            _ssa.Fill(value - _season.Expected(ts));
            _ssa.Refit(1);
        }
    }

    private void AddVerdicts(List<Anomaly> verdicts, in DetectionResult r, double martingale, long martingaleSince, double shiftMean, double shiftFrom, long shiftSince, int shiftN, Direction shiftDirection, double levelSigma, double tailMean, long tailSince, double rateBaseline, in TrendDetector.Verdict trend)
    {
        var residualDirection = r.Observed >= r.Expected ? Direction.Up : Direction.Down;
        var inv = CultureInfo.InvariantCulture;
        if ((r.Fired & DetectorFlags.Spike) != 0)
        {
            verdicts.Add(Make(in r, DetectorKind.Spike, r.TimestampMs, r.Expected, r.Lower, r.Upper, r.PValue, residualDirection,
                string.Create(inv, $"value {r.Observed:G6} outside band [{r.Lower:G6}, {r.Upper:G6}], p = {r.PValue:G3}")));
        }

        if ((r.Fired & DetectorFlags.ChangePoint) != 0)
        {
            // Ville's inequality: P(sup M ≥ c) ≤ 1/c, so exp(−log M) bounds the false-alarm probability.
            var p = Math.Exp(-martingale);
            verdicts.Add(Make(in r, DetectorKind.ChangePoint, martingaleSince, r.Expected, r.Lower, r.Upper, p, residualDirection,
                string.Create(inv, $"power martingale log M = {martingale:F2} since {martingaleSince}")));
        }

        if ((r.Fired & DetectorFlags.LevelShift) != 0)
        {
            var z = Math.Abs(shiftMean - shiftFrom) / levelSigma * Math.Sqrt(Math.Max(1, shiftN));
            var p = SpecialFunctions.Erfc(z * 0.7071067811865476);
            verdicts.Add(Make(in r, DetectorKind.LevelShift, shiftSince, r.Expected, r.Lower, r.Upper, p, shiftDirection,
                string.Create(inv, $"CUSUM level shift from {shiftFrom:G6} to {shiftMean:G6} over {shiftN} points (σ = {levelSigma:G3})")));
        }

        if ((r.Fired & DetectorFlags.TailLatency) != 0)
        {
            verdicts.Add(Make(in r, DetectorKind.TailLatency, tailSince, r.Expected, r.Lower, r.Upper, r.PValue, Direction.Up,
                string.Create(inv, $"tail latency {tailMean * 100:F1}% above its reference")));
        }

        if ((r.Fired & DetectorFlags.RateIncrease) != 0)
        {
            var n = _rateExcessRequests;
            var observed = n > 0 ? _rateExcessErrors / n : r.Observed;
            var sd = Math.Sqrt(rateBaseline * (1 - rateBaseline) / Math.Max(1, n));
            var z = (observed - rateBaseline) / sd;
            var p = 0.5 * SpecialFunctions.Erfc(z * 0.7071067811865476);
            verdicts.Add(Make(in r, DetectorKind.RateIncrease, _rateStartTs, rateBaseline, Math.Max(0, rateBaseline - (3 * sd)), rateBaseline + (3 * sd), p, Direction.Up,
                string.Create(inv, $"error rate {observed:P3} over {n:F0} requests vs baseline {rateBaseline:P3} (z = {z:F1})"), observed));
        }

        if ((r.Fired & DetectorFlags.Trend) != 0)
        {
            var perHour = trend.SlopePerMs * 3_600_000;
            string detail;
            if (Profile.Capacity is double cap && trend.SlopePerMs > 0)
            {
                var tte = cap > trend.Level ? (cap - trend.Level) / trend.SlopePerMs : 0;
                TimeToExhaustionMs = (long)Math.Min(tte, long.MaxValue / 2.0);
                detail = string.Create(inv, $"trend {perHour:G3}/h (Theil–Sen), Mann–Kendall p = {trend.PValue:G3}, level {trend.Level:G6} of capacity {cap:G6}, time to exhaustion {TimeSpan.FromMilliseconds(TimeToExhaustionMs.Value)}");
            }
            else
            {
                detail = string.Create(inv, $"trend {perHour:G3}/h (Theil–Sen), Mann–Kendall p = {trend.PValue:G3}, change {trend.ChangeSigmas:F1}σ over the window");
            }

            verdicts.Add(Make(in r, DetectorKind.Trend, trend.SinceMs, r.Expected, r.Lower, r.Upper, trend.PValue, trend.SlopePerMs >= 0 ? Direction.Up : Direction.Down, detail));
        }
    }

    /// <summary>The last time to exhaustion estimated by the trend detector (ms), null when none was.</summary>
    public long? TimeToExhaustionMs { get; private set; }

    /// <summary>
    /// Writes a versioned binary snapshot (magic "ADET", format version, series, kind, profile as
    /// JSON, then every state field) from which <see cref="Load"/> restores a detector whose
    /// subsequent outputs are bit-identical to this one's.
    /// </summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(FormatVersion);
        w.Write(Series.Service);
        w.Write(Series.Metric);
        w.Write(Series.Labels);
        w.Write((byte)Kind);
        w.Write(ProfileLoader.ToJson(Profile));
        w.Write(_accepted);
        w.Write(_nonFinite);
        w.Write(_outOfOrder);
        w.Write(_duplicates);
        w.Write(_gaps);
        w.Write(_invalidRates);
        w.Write(_lastTs);
        w.Write(_intervalMs);
        w.Write(_sinceRefit);
        w.Write(_substituted);
        w.Write(_lastExpected);
        w.Write(_quiet);
        w.Write(_logMartingale);
        w.Write(_martingaleStartTs);
        w.Write(_cooldownChange);
        w.Write(_levelInit);
        w.Write(_levelUpdates);
        w.Write(_level);
        w.Write(_levelAbsDev);
        w.Write(_levelVar);
        w.Write(_levelLag1);
        w.Write(_levelLastDev);
        w.Write(_cusumPos);
        w.Write(_cusumNeg);
        w.Write(_posStartTs);
        w.Write(_negStartTs);
        w.Write(_posSum);
        w.Write(_negSum);
        w.Write(_posN);
        w.Write(_negN);
        w.Write(_cooldownLevel);
        w.Write(_tailRef);
        w.Write(_tailAbsDev);
        w.Write(_tailCusum);
        w.Write(_tailStartTs);
        w.Write(_tailSum);
        w.Write(_tailN);
        w.Write(_cooldownTail);
        w.Write(_rateErrors);
        w.Write(_rateRequests);
        w.Write(_rateCusum);
        w.Write(_rateStartTs);
        w.Write(_rateExcessErrors);
        w.Write(_rateExcessRequests);
        w.Write(_cooldownRate);
        w.Write(TimeToExhaustionMs.HasValue);
        w.Write(TimeToExhaustionMs ?? 0);
        _ssa.Write(w);
        _residuals.Write(w);
        _season.Write(w);
        _trend.Write(w);
        _likelihood.Write(w); // nab
    }

    /// <summary>Restores a detector written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">Not a detector snapshot, an unknown version, or a corrupt field (the message names it).</exception>
    public static SeriesDetector Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        try
        {
            var magic = r.ReadUInt32();
            if (magic != Magic)
            {
                throw new InvalidDataException($"Not a detector snapshot: magic 0x{magic:X8}, expected 0x{Magic:X8}.");
            }

            var version = r.ReadByte();
            if (version != FormatVersion)
            {
                throw new InvalidDataException($"Detector snapshot version {version} is not supported (this build reads version {FormatVersion}).");
            }

            var series = new SeriesKey(r.ReadString(), r.ReadString(), r.ReadString());
            var kind = (MetricKind)r.ReadByte();
            if (!Enum.IsDefined(kind))
            {
                throw new InvalidDataException($"Snapshot field kind has unknown value {(byte)kind}.");
            }

            var profile = ProfileLoader.FromJson(r.ReadString(), "<snapshot>");
            var d = new SeriesDetector(series, kind, profile);
            d.ReadState(r);
            return d;
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("Detector snapshot is truncated.", e);
        }
    }

    private void ReadState(BinaryReader r)
    {
        _accepted = r.ReadInt64();
        _nonFinite = r.ReadInt64();
        _outOfOrder = r.ReadInt64();
        _duplicates = r.ReadInt64();
        _gaps = r.ReadInt64();
        _invalidRates = r.ReadInt64();
        _lastTs = r.ReadInt64();
        _intervalMs = r.ReadDouble();
        _sinceRefit = r.ReadInt32();
        _substituted = r.ReadInt32();
        _lastExpected = r.ReadDouble();
        _quiet = r.ReadInt32();
        _logMartingale = r.ReadDouble();
        _martingaleStartTs = r.ReadInt64();
        _cooldownChange = r.ReadInt32();
        _levelInit = r.ReadBoolean();
        _levelUpdates = r.ReadInt64();
        _level = r.ReadDouble();
        _levelAbsDev = r.ReadDouble();
        _levelVar = r.ReadDouble();
        _levelLag1 = r.ReadDouble();
        _levelLastDev = r.ReadDouble();
        _cusumPos = r.ReadDouble();
        _cusumNeg = r.ReadDouble();
        _posStartTs = r.ReadInt64();
        _negStartTs = r.ReadInt64();
        _posSum = r.ReadDouble();
        _negSum = r.ReadDouble();
        _posN = r.ReadInt32();
        _negN = r.ReadInt32();
        _cooldownLevel = r.ReadInt32();
        _tailRef = r.ReadDouble();
        _tailAbsDev = r.ReadDouble();
        _tailCusum = r.ReadDouble();
        _tailStartTs = r.ReadInt64();
        _tailSum = r.ReadDouble();
        _tailN = r.ReadInt32();
        _cooldownTail = r.ReadInt32();
        _rateErrors = r.ReadDouble();
        _rateRequests = r.ReadDouble();
        _rateCusum = r.ReadDouble();
        _rateStartTs = r.ReadInt64();
        _rateExcessErrors = r.ReadDouble();
        _rateExcessRequests = r.ReadDouble();
        _cooldownRate = r.ReadInt32();
        var hasTte = r.ReadBoolean();
        var tte = r.ReadInt64();
        TimeToExhaustionMs = hasTte ? tte : null;
        _ssa.Read(r);
        _residuals.Read(r);
        _season.Read(r);
        _trend.Read(r);
        _likelihood.Read(r); // nab
    }

    private Anomaly Make(in DetectionResult r, DetectorKind detector, long since, double expected, double lower, double upper, double p, Direction direction, string detail, double? observed = null) => new()
    {
        Series = Series,
        Kind = Kind,
        Detector = detector,
        TimestampMs = r.TimestampMs,
        SinceMs = since,
        Observed = observed ?? r.Observed,
        Expected = expected,
        Lower = lower,
        Upper = upper,
        PValue = Math.Clamp(p, 0, 1),
        Score = r.Score,
        Direction = direction,
        Detail = detail,
    };
}
