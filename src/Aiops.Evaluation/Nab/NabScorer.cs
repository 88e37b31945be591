namespace Aiops.Evaluation.Nab;

/// <summary>A labelled anomaly window as inclusive row indices of its data file.</summary>
/// <param name="FirstRow">Index of the first row inside the window.</param>
/// <param name="LastRow">Index of the last row inside the window (NAB's "right edge").</param>
internal readonly record struct NabWindow(int FirstRow, int LastRow)
{
    /// <summary>Rows in the window, counted inclusively (NAB's window width W).</summary>
    public int Width => LastRow - FirstRow + 1;
}

/// <summary>One data file's detector output and labels, the unit NAB scores.</summary>
/// <param name="Name">Relative data path, e.g. <c>realKnownCause/nyc_taxi.csv</c>.</param>
/// <param name="AnomalyScores">One anomaly score per data row, in row order.</param>
/// <param name="Windows">The file's windows, sorted and disjoint.</param>
internal sealed record NabScoredFile(string Name, double[] AnomalyScores, NabWindow[] Windows);

/// <summary>A file's share of a profile's raw score at the chosen threshold.</summary>
/// <param name="Name">Relative data path.</param>
/// <param name="RawScore">Sum of this file's window values and false-positive penalties.</param>
/// <param name="PerfectScore">What a perfect detector earns on this file (windows × tpWeight).</param>
/// <param name="DetectedWindows">Windows with at least one detection.</param>
/// <param name="MissedWindows">Scored windows without a detection.</param>
/// <param name="FalsePositiveRows">Detected rows outside every window, after the probationary period.</param>
internal sealed record NabFileScore(string Name, double RawScore, double PerfectScore, int DetectedWindows, int MissedWindows, int FalsePositiveRows);

/// <summary>The outcome of one profile over the whole corpus.</summary>
/// <param name="Profile">The cost matrix used.</param>
/// <param name="Threshold">The corpus-wide threshold that maximised the raw score (1.1 = nothing detected).</param>
/// <param name="RawScore">The best raw score.</param>
/// <param name="NullScore">Raw score of the null detector (never fires): −fnWeight per scored window.</param>
/// <param name="PerfectScore">Raw score of a perfect detector: tpWeight per labelled window.</param>
/// <param name="Files">Per-file contributions at <paramref name="Threshold"/>, in corpus order.</param>
internal sealed record NabProfileScore(NabProfile Profile, double Threshold, double RawScore, double NullScore, double PerfectScore, IReadOnlyList<NabFileScore> Files)
{
    /// <summary>
    /// <c>100 · (raw − null) / (perfect − null)</c> as NAB's runner normalises: 0 for the null
    /// detector, 100 for a perfect one. NaN when the corpus has no window (nothing to normalise by).
    /// </summary>
    public double NormalizedScore => PerfectScore == NullScore ? double.NaN : 100.0 * (RawScore - NullScore) / (PerfectScore - NullScore);
}

/// <summary>
/// Our implementation of the Numenta Anomaly Benchmark scoring rules (Lavin &amp; Ahmad, "Evaluating
/// Real-time Anomaly Detection Algorithms — the Numenta Anomaly Benchmark", 2015, section on the
/// scoring function; checked against NAB's <c>nab/sweeper.py</c> at commit ea702d7).
/// </summary>
/// <remarks>
/// <para>Per file of N rows, the first min(⌊0.15·N⌋, 750) rows are probationary and not scored.
/// A scored row inside a window of width W whose right edge is row R is worth
/// <c>tpWeight · σ(−(R − i + 1)/W) / σ(−1)</c>; a window is worth the best of its detected rows
/// (the earliest, since σ falls towards the right edge) or <c>−fnWeight</c> when none is detected.
/// A detected row outside every window costs <c>fpWeight · σ(|R' − i|/(W' − 1))</c> with R', W' of
/// the nearest preceding window (σ(x) = −1 for x ≥ 3), or <c>−fpWeight</c> when no window precedes
/// it. σ(x) = 2/(1 + e^{5x}) − 1, which equals −tanh(2.5·x).</para>
/// <para>Every row whose score is at or above the threshold is a detection. The threshold is one
/// per profile for the whole corpus: every distinct anomaly score is tried (rows sorted once,
/// O(N log N)), and the highest threshold among equally good ones wins, as NAB's stable sort
/// of its sweep does.</para>
/// </remarks>
internal sealed class NabScorer
{
    /// <summary>Fraction of each file that is probationary (NAB's <c>probationPercent</c>).</summary>
    public const double ProbationaryFraction = 0.15;

    /// <summary>Cap on probationary rows: 0.15 · 5000 = 750 in NAB's sweeper.</summary>
    public const int MaxProbationaryRows = 750;

    /// <summary>The threshold NAB reports when the best choice is to detect nothing.</summary>
    public const double NoDetectionThreshold = 1.1;

    private readonly IReadOnlyList<NabScoredFile> _files;
    private readonly int[] _fileWindowOffset;
    private readonly int _totalWindows;
    private readonly int _scoredWindows;

    // Scorable rows (after probation) of all files, sorted by anomaly score, highest first.
    private readonly double[] _sortedScore;
    private readonly double[] _sortedUnit;
    private readonly int[] _sortedWindow;

    /// <summary>Prepares a corpus for scoring; the row sort is shared by every profile.</summary>
    /// <exception cref="ArgumentException">A score is NaN, or a window is out of range, unsorted or overlapping.</exception>
    public NabScorer(IReadOnlyList<NabScoredFile> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        _files = files;
        _fileWindowOffset = new int[files.Count];
        var rowCount = 0;
        for (var f = 0; f < files.Count; f++)
        {
            Validate(files[f]);
            _fileWindowOffset[f] = _totalWindows;
            _totalWindows += files[f].Windows.Length;
            rowCount += files[f].AnomalyScores.Length - ProbationaryRows(files[f].AnomalyScores.Length);
        }

        var keys = new double[rowCount];
        _sortedScore = new double[rowCount];
        _sortedUnit = new double[rowCount];
        _sortedWindow = new int[rowCount];
        var scored = new bool[_totalWindows];
        var k = 0;
        for (var f = 0; f < files.Count; f++)
        {
            var file = files[f];
            var n = file.AnomalyScores.Length;
            var unit = new double[n];
            var window = new int[n];
            LabelRows(n, file.Windows, unit, window);
            for (var i = ProbationaryRows(n); i < n; i++)
            {
                keys[k] = -file.AnomalyScores[i];
                _sortedScore[k] = file.AnomalyScores[i];
                _sortedUnit[k] = unit[i];
                _sortedWindow[k] = window[i] < 0 ? -1 : _fileWindowOffset[f] + window[i];
                if (window[i] >= 0)
                {
                    scored[_sortedWindow[k]] = true;
                }

                k++;
            }
        }

        var order = new int[rowCount];
        for (var i = 0; i < rowCount; i++)
        {
            order[i] = i;
        }

        Array.Sort(keys, order);
        Permute(_sortedScore, order);
        Permute(_sortedUnit, order);
        Permute(_sortedWindow, order);
        foreach (var s in scored)
        {
            _scoredWindows += s ? 1 : 0;
        }
    }

    /// <summary>Labelled windows in the corpus (NAB's <c>tpCount</c> for the perfect score).</summary>
    public int TotalWindows => _totalWindows;

    /// <summary>NAB's probationary length for a file of <paramref name="rowCount"/> rows: min(⌊0.15·N⌋, 750).</summary>
    public static int ProbationaryRows(int rowCount) =>
        Math.Min((int)Math.Floor(ProbationaryFraction * rowCount), MaxProbationaryRows);

    /// <summary>NAB's scaled sigmoid σ(x) = 2/(1 + e^{5x}) − 1, and −1 for x ≥ 3 (far past a window).</summary>
    public static double ScaledSigmoid(double relativePosition) =>
        relativePosition >= 3.0 ? -1.0 : (2.0 / (1.0 + Math.Exp(5.0 * relativePosition))) - 1.0;

    /// <summary>
    /// Unweighted value of every row as if it were detected: inside a window the fraction of
    /// tpWeight it earns, σ(−(R − i + 1)/W)/σ(−1) ∈ (0, 1]; outside, the fraction of fpWeight it
    /// costs, σ(|R' − i|/(W' − 1)) ∈ [−1, 0), or −1 before the first window.
    /// </summary>
    /// <param name="rowCount">Rows in the file.</param>
    /// <param name="windows">Sorted, disjoint windows.</param>
    /// <param name="unit">Receives each row's unweighted value.</param>
    /// <param name="window">Receives each row's window index, −1 outside every window.</param>
    public static void LabelRows(int rowCount, ReadOnlySpan<NabWindow> windows, Span<double> unit, Span<int> window)
    {
        var maxTp = ScaledSigmoid(-1.0);
        var next = 0;
        var previous = -1;
        for (var i = 0; i < rowCount; i++)
        {
            if (next < windows.Length && i >= windows[next].FirstRow)
            {
                var w = windows[next];
                window[i] = next;
                unit[i] = ScaledSigmoid(-(double)(w.LastRow - i + 1) / w.Width) / maxTp;
                if (i == w.LastRow)
                {
                    previous = next;
                    next++;
                }

                continue;
            }

            window[i] = -1;
            if (previous < 0)
            {
                unit[i] = -1.0;
            }
            else
            {
                // A one-row window has W' − 1 = 0: the division gives +∞ and σ gives −1, as in NAB.
                var p = windows[previous];
                unit[i] = ScaledSigmoid(Math.Abs(p.LastRow - i) / (double)(p.Width - 1));
            }
        }
    }

    /// <summary>
    /// The raw score at every candidate threshold, highest threshold first: first
    /// <see cref="NoDetectionThreshold"/> (nothing detected), then each distinct anomaly score.
    /// </summary>
    public List<(double Threshold, double RawScore)> Sweep(NabProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var curve = new List<(double, double)>();
        Sweep(profile, curve);
        return curve;
    }

    /// <summary>
    /// The raw score when the detector flags a given fraction of the scored rows (its highest
    /// scores): a tuning view of the sweep that shows where, if anywhere, the scores carry signal.
    /// </summary>
    /// <param name="profile">The cost matrix.</param>
    /// <param name="fractions">Fractions of scored rows in (0, 1], e.g. 0.001 for the top 0.1 %.</param>
    public List<(double Fraction, double Threshold, double RawScore)> AtDetectionRates(NabProfile profile, ReadOnlySpan<double> fractions)
    {
        var curve = Sweep(profile);
        var result = new List<(double, double, double)>(fractions.Length);
        if (_sortedScore.Length == 0)
        {
            return result;
        }

        foreach (var f in fractions)
        {
            var k = Math.Clamp((int)(f * _sortedScore.Length), 1, _sortedScore.Length);
            var threshold = _sortedScore[k - 1];
            foreach (var (t, raw) in curve)
            {
                if (t == threshold)
                {
                    result.Add((f, t, raw));
                    break;
                }
            }
        }

        return result;
    }

    /// <summary>Optimises the threshold for <paramref name="profile"/> and scores the corpus at it.</summary>
    public NabProfileScore Score(NabProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var (threshold, best) = Sweep(profile, null);
        return ScoreAt(profile, threshold, best);
    }

    /// <summary>Scores the corpus at a fixed threshold (e.g. one shipped in NAB's <c>thresholds.json</c>).</summary>
    public NabProfileScore ScoreAt(NabProfile profile, double threshold) => ScoreAt(profile, threshold, double.NaN);

    private NabProfileScore ScoreAt(NabProfile profile, double threshold, double sweptRaw)
    {
        var files = new NabFileScore[_files.Count];
        var raw = 0.0;
        for (var f = 0; f < _files.Count; f++)
        {
            files[f] = ScoreFile(_files[f], profile, threshold);
            raw += files[f].RawScore;
        }

        // The sweep's running total and the per-file sum agree to rounding; report the sweep's
        // value when there is one so that the printed score is the maximum the sweep found.
        if (!double.IsNaN(sweptRaw))
        {
            raw = sweptRaw;
        }

        return new NabProfileScore(profile, threshold, raw, -profile.FnWeight * _scoredWindows, profile.TpWeight * _totalWindows, files);
    }

    private (double Threshold, double Raw) Sweep(NabProfile profile, List<(double, double)>? curve)
    {
        var windowValue = new double[_totalWindows];
        Array.Fill(windowValue, -profile.FnWeight);
        var total = -profile.FnWeight * _scoredWindows;
        var best = total;
        var bestThreshold = NoDetectionThreshold;
        curve?.Add((NoDetectionThreshold, total));
        var i = 0;
        while (i < _sortedScore.Length)
        {
            var threshold = _sortedScore[i];
            while (i < _sortedScore.Length && _sortedScore[i] == threshold)
            {
                var w = _sortedWindow[i];
                if (w < 0)
                {
                    total += profile.FpWeight * _sortedUnit[i];
                }
                else
                {
                    var value = profile.TpWeight * _sortedUnit[i];
                    if (value > windowValue[w])
                    {
                        total += value - windowValue[w];
                        windowValue[w] = value;
                    }
                }

                i++;
            }

            curve?.Add((threshold, total));
            if (total > best)
            {
                best = total;
                bestThreshold = threshold;
            }
        }

        return (bestThreshold, best);
    }

    private static NabFileScore ScoreFile(NabScoredFile file, NabProfile profile, double threshold)
    {
        var n = file.AnomalyScores.Length;
        var probation = ProbationaryRows(n);
        var unit = new double[n];
        var window = new int[n];
        LabelRows(n, file.Windows, unit, window);
        var windowValue = new double[file.Windows.Length];
        var windowScored = new bool[file.Windows.Length];
        Array.Fill(windowValue, double.NegativeInfinity);
        var fp = 0.0;
        var fpRows = 0;
        for (var i = probation; i < n; i++)
        {
            var w = window[i];
            if (w >= 0)
            {
                windowScored[w] = true;
            }

            if (file.AnomalyScores[i] < threshold)
            {
                continue;
            }

            if (w < 0)
            {
                fp += profile.FpWeight * unit[i];
                fpRows++;
            }
            else
            {
                windowValue[w] = Math.Max(windowValue[w], profile.TpWeight * unit[i]);
            }
        }

        var raw = fp;
        var detected = 0;
        var missed = 0;
        for (var w = 0; w < windowValue.Length; w++)
        {
            if (!windowScored[w])
            {
                continue; // entirely probationary: NAB leaves it out of the sum
            }

            if (double.IsNegativeInfinity(windowValue[w]))
            {
                raw -= profile.FnWeight;
                missed++;
            }
            else
            {
                raw += windowValue[w];
                detected++;
            }
        }

        return new NabFileScore(file.Name, raw, profile.TpWeight * file.Windows.Length, detected, missed, fpRows);
    }

    private static void Validate(NabScoredFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var n = file.AnomalyScores.Length;
        for (var i = 0; i < n; i++)
        {
            if (double.IsNaN(file.AnomalyScores[i]))
            {
                throw new ArgumentException($"{file.Name}: anomaly score of row {i} is NaN; emit 0 for rows without a score", nameof(file));
            }
        }

        var lastEnd = -1;
        foreach (var w in file.Windows)
        {
            if (w.FirstRow <= lastEnd || w.LastRow < w.FirstRow || w.LastRow >= n)
            {
                throw new ArgumentException($"{file.Name}: window rows [{w.FirstRow}, {w.LastRow}] are out of range (0..{n - 1}), unsorted or overlap the previous window", nameof(file));
            }

            lastEnd = w.LastRow;
        }
    }

    private static void Permute<T>(T[] values, int[] order)
    {
        var copy = (T[])values.Clone();
        for (var i = 0; i < order.Length; i++)
        {
            values[i] = copy[order[i]];
        }
    }
}
