using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Aiops.Core;
using Aiops.Evaluation.Detectors;

namespace Aiops.Evaluation.Nab;

/// <summary>A reference detector the runner can use instead of the product detector, to check the scorer.</summary>
internal enum NabReference
{
    /// <summary>No reference: run the detector factory given to the runner.</summary>
    None = 0,

    /// <summary>Never fires (score 0 everywhere): must normalise to exactly 0.</summary>
    Null = 1,

    /// <summary>Reads the labels (look-ahead, not a real detector): score 1 on the first scored row of each window, else 0. Must normalise to exactly 100.</summary>
    Oracle = 2,
}

/// <summary>Options of one NAB run.</summary>
/// <param name="DataRoot">NAB root with <c>data/</c>, <c>labels/combined_windows.json</c>, <c>config/profiles.json</c>.</param>
/// <param name="OutDir">Where <c>&lt;detector&gt;/&lt;category&gt;/&lt;detector&gt;_&lt;file&gt;.csv</c> go.</param>
/// <param name="DetectorName">Detector name in the results layout (no '_' or '.').</param>
/// <param name="Parallelism">Files processed at once.</param>
/// <param name="Reference">A reference detector to run instead of the factory's.</param>
/// <param name="ReportPath">Optional extra copy of the text report.</param>
/// <param name="ScoreOnly">Score result files already in <paramref name="OutDir"/> (e.g. a published detector's) instead of running a detector.</param>
internal sealed record NabRunOptions(string DataRoot, string OutDir, string DetectorName, int Parallelism, NabReference Reference = NabReference.None, string? ReportPath = null, bool ScoreOnly = false);

/// <summary>The outcome of a NAB run.</summary>
/// <param name="Profiles">One score per profile, in the order of <c>profiles.json</c>.</param>
/// <param name="Files">Files scored.</param>
/// <param name="Rows">Rows streamed through the detector.</param>
/// <param name="DetectSeconds">Wall time of detection and result writing.</param>
/// <param name="Report">The text report (also printed and written to <c>&lt;out&gt;/&lt;detector&gt;_scores.txt</c>).</param>
internal sealed record NabRunResult(IReadOnlyList<NabProfileScore> Profiles, int Files, long Rows, double DetectSeconds, string Report);

/// <summary>
/// Streams every NAB file through a detector online (each row's score uses only that row and the
/// rows before it), writes NAB-format result files, optimises one threshold per profile over the
/// whole corpus with <see cref="NabScorer"/> and reports raw and normalised scores beside the
/// published ones.
/// </summary>
internal static class NabRunner
{
    /// <summary>Runs detection, writes results and scores them.</summary>
    /// <exception cref="InvalidDataException">A NAB input file is malformed.</exception>
    /// <exception cref="DirectoryNotFoundException">The NAB folders are missing.</exception>
    public static NabRunResult Run(NabRunOptions options, IDetectorFactory detector, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(detector);
        NabResultsWriter.ValidateDetectorName(options.DetectorName);

        var windowsPath = Path.Combine(options.DataRoot, "labels", "combined_windows.json");
        if (!File.Exists(windowsPath))
        {
            throw new FileNotFoundException($"NAB windows file not found: {windowsPath}");
        }

        var windows = NabCorpus.ReadWindows(File.ReadAllText(windowsPath));
        var profilesPath = Path.Combine(options.DataRoot, "config", "profiles.json");
        var profiles = File.Exists(profilesPath) ? NabProfile.Parse(File.ReadAllText(profilesPath)) : NabProfile.Published;
        var relativePaths = NabCorpus.DataFiles(options.DataRoot);
        foreach (var path in relativePaths)
        {
            if (!windows.ContainsKey(path))
            {
                throw new InvalidDataException($"{path} has no entry in {windowsPath}; NAB needs one (possibly empty) per data file");
            }
        }

        var clock = Stopwatch.StartNew();
        var data = new NabDataFile[relativePaths.Count];
        var scores = new double[relativePaths.Count][];
        try
        {
            // Largest files first (22,695 rows down to ~1,100): the last file to finish is a small one.
            var order = new int[relativePaths.Count];
            var sizes = new long[relativePaths.Count];
            for (var f = 0; f < order.Length; f++)
            {
                order[f] = f;
                sizes[f] = -new FileInfo(Path.Combine(options.DataRoot, "data", relativePaths[f])).Length;
            }

            Array.Sort(sizes, order);
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Parallelism), CancellationToken = cancellationToken };
            Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(order, loadBalance: true), parallel, f =>
                (data[f], scores[f]) = ProcessFile(options, relativePaths[f], windows[relativePaths[f]], detector));
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            // Report the first file's error as itself (e.g. InvalidDataException with file:line).
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            throw;
        }
        var detectSeconds = clock.Elapsed.TotalSeconds;

        var scoredFiles = new NabScoredFile[data.Length];
        long rows = 0;
        for (var f = 0; f < data.Length; f++)
        {
            scoredFiles[f] = new NabScoredFile(data[f].RelativePath, scores[f], data[f].Windows);
            rows += data[f].Count;
        }

        var scorer = new NabScorer(scoredFiles);
        var results = new List<NabProfileScore>(profiles.Count);
        foreach (var profile in profiles)
        {
            results.Add(scorer.Score(profile));
        }

        // NAB ships the thresholds its published detectors reached; scoring at them reproduces
        // published_scores.json, which checks this scorer against NAB's when result files are at hand.
        var shipped = new List<NabProfileScore>();
        var thresholdsPath = Path.Combine(options.DataRoot, "config", "thresholds.json");
        if (File.Exists(thresholdsPath))
        {
            var thresholds = ReadPublished(File.ReadAllText(thresholdsPath), "threshold");
            if (thresholds.TryGetValue(options.DetectorName, out var byProfile))
            {
                foreach (var profile in profiles)
                {
                    if (byProfile.TryGetValue(profile.Name, out var t))
                    {
                        shipped.Add(scorer.ScoreAt(profile, t));
                    }
                }
            }
        }

        var publishedPath = Path.Combine(options.DataRoot, "published_scores.json");
        var published = File.Exists(publishedPath) ? ReadPublished(File.ReadAllText(publishedPath)) : [];
        var header = string.Create(CultureInfo.InvariantCulture,
            $"NAB scores: detector '{options.DetectorName}'{(options.Reference == NabReference.None ? "" : $" (reference: {options.Reference})")}{(options.ScoreOnly ? " (existing result files)" : "")}, {data.Length} files, {rows} rows, {scorer.TotalWindows} windows; {(options.ScoreOnly ? "reading" : "detection + writing")} {detectSeconds:F1} s on {options.Parallelism} thread(s)");
        header += Environment.NewLine + ScoreResolution(scores);
        var rates = profiles.Count == 0 ? [] : scorer.AtDetectionRates(profiles[0], [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1]);
        var report = NabReport.Format(header, options.DetectorName, results, published, shipped, rates);
        Directory.CreateDirectory(options.OutDir);
        File.WriteAllText(Path.Combine(options.OutDir, options.DetectorName + "_scores.txt"), report);
        if (options.ReportPath is not null)
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(options.ReportPath));
            if (dir is not null)
            {
                Directory.CreateDirectory(dir);
            }

            File.WriteAllText(options.ReportPath, report);
        }

        return new NabRunResult(results, data.Length, rows, detectSeconds, report);
    }

    private static (NabDataFile File, double[] Scores) ProcessFile(NabRunOptions options, string relativePath, List<(long StartMs, long EndMs)> windows, IDetectorFactory detector)
    {
        var file = NabCorpus.ReadDataFile(options.DataRoot, relativePath, windows);
        if (options.ScoreOnly)
        {
            return (file, ReadResults(NabResultsWriter.ResultPath(options.OutDir, options.DetectorName, file), file.Count));
        }

        var scores = options.Reference switch
        {
            NabReference.Null => new double[file.Count],
            NabReference.Oracle => OracleScores(file),
            _ => DetectOrExplain(file, detector),
        };
        NabResultsWriter.Write(options.OutDir, options.DetectorName, file, scores);
        return (file, scores);
    }

    private static double[] DetectOrExplain(NabDataFile file, IDetectorFactory detector)
    {
        try
        {
            return Detect(file, detector);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new InvalidOperationException($"{file.RelativePath}: detector '{detector.Name}' failed: {e.Message}", e);
        }
    }

    /// <summary>Streams one file through a fresh detector, one point at a time, in row order.</summary>
    internal static double[] Detect(NabDataFile file, IDetectorFactory factory)
    {
        var key = new SeriesKey("nab", file.RelativePath);
        var detector = factory.Create(key, MetricKind.Generic);
        var scores = new double[file.Count];
        for (var i = 0; i < file.Count; i++)
        {
            var output = detector.Observe(new MetricPoint(key, MetricKind.Generic, file.TimestampsMs[i], file.Values[i]));
            scores[i] = NabResultsWriter.Sanitize(output.Score);
        }

        return scores;
    }

    /// <summary>
    /// One line on how finely the scores rank rows: NAB's threshold can only separate rows whose
    /// scores differ, so many rows tied at the top score make every threshold detect all of them.
    /// </summary>
    internal static string ScoreResolution(double[][] scores)
    {
        var distinct = new HashSet<double>();
        long rows = 0, positive = 0, atMax = 0;
        var max = 0.0;
        foreach (var file in scores)
        {
            foreach (var v in file)
            {
                distinct.Add(v);
                rows++;
                positive += v > 0 ? 1 : 0;
                max = Math.Max(max, v);
            }
        }

        foreach (var file in scores)
        {
            foreach (var v in file)
            {
                atMax += v == max ? 1 : 0;
            }
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"Score resolution: {distinct.Count} distinct scores over {rows} rows; {positive} rows > 0; {atMax} rows ({100.0 * atMax / Math.Max(1, rows):F2} %) tied at the maximum {max:G6}.");
    }

    /// <summary>Reads the <c>anomaly_score</c> column of an existing results file (one row per data row).</summary>
    /// <exception cref="InvalidDataException">The file is missing the column, has another row count, or a score is not a number.</exception>
    internal static double[] ReadResults(string path, int rows)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"results file not found: {path}");
        }

        using var reader = new StreamReader(path);
        var header = (reader.ReadLine() ?? string.Empty).Split(',');
        var column = Array.IndexOf(header, "anomaly_score");
        if (column < 0)
        {
            throw new InvalidDataException($"{path}: no anomaly_score column");
        }

        var scores = new double[rows];
        var row = 0;
        string? line;
        while ((line = reader.ReadLine()) != null)
        {
            if (line.Length == 0)
            {
                continue;
            }

            var fields = line.Split(',');
            if (row >= rows || fields.Length <= column
                || !double.TryParse(fields[column], NumberStyles.Float, CultureInfo.InvariantCulture, out scores[row]) || double.IsNaN(scores[row]))
            {
                throw new InvalidDataException($"{path}: row {row + 1} is beyond the data file's {rows} rows or has no numeric anomaly_score");
            }

            row++;
        }

        if (row != rows)
        {
            throw new InvalidDataException($"{path}: {row} rows, the data file has {rows}");
        }

        return scores;
    }

    /// <summary>The label-reading oracle: 1 on the first scored row of each window (worth exactly tpWeight), 0 elsewhere.</summary>
    internal static double[] OracleScores(NabDataFile file)
    {
        var scores = new double[file.Count];
        var probation = NabScorer.ProbationaryRows(file.Count);
        foreach (var w in file.Windows)
        {
            var first = Math.Max(w.FirstRow, probation);
            if (first <= w.LastRow)
            {
                scores[first] = 1.0;
            }
        }

        return scores;
    }

    /// <summary>
    /// Reads NAB's <c>final_results.json</c> shape (detector → profile → normalised score), or with
    /// <paramref name="field"/> the <c>thresholds.json</c> shape (detector → profile → {field: value}).
    /// </summary>
    internal static Dictionary<string, Dictionary<string, double>> ReadPublished(string json, string? field = null)
    {
        var result = new Dictionary<string, Dictionary<string, double>>(StringComparer.Ordinal);
        using var doc = JsonDocument.Parse(json);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException("published scores: expected a JSON object of detector -> {profile: score}");
        }

        foreach (var detector in doc.RootElement.EnumerateObject())
        {
            if (detector.Value.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            var byProfile = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var p in detector.Value.EnumerateObject())
            {
                var value = field is null ? p.Value : p.Value.ValueKind == JsonValueKind.Object && p.Value.TryGetProperty(field, out var v) ? v : default;
                if (value.ValueKind == JsonValueKind.Number)
                {
                    byProfile[p.Name] = value.GetDouble();
                }
            }

            result[detector.Name] = byProfile;
        }

        return result;
    }
}

/// <summary>Formats the NAB run report: the score table, the published scoreboard, and per-file contributions.</summary>
internal static class NabReport
{
    /// <summary>Builds the report text.</summary>
    public static string Format(string header, string detector, IReadOnlyList<NabProfileScore> results, Dictionary<string, Dictionary<string, double>> published, IReadOnlyList<NabProfileScore>? shipped = null, IReadOnlyList<(double Fraction, double Threshold, double RawScore)>? rates = null)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(header);
        sb.AppendLine();
        sb.AppendLine(c, $"{"profile",-20} {"threshold",12} {"raw",10} {"null raw",10} {"perfect",8} {"normalised",10}");
        foreach (var r in results)
        {
            sb.AppendLine(c, $"{r.Profile.Name,-20} {r.Threshold,12:G6} {r.RawScore,10:F3} {r.NullScore,10:F3} {r.PerfectScore,8:F1} {r.NormalizedScore,10:F2}");
        }

        if (shipped is { Count: > 0 })
        {
            sb.AppendLine();
            sb.AppendLine("At the thresholds NAB ships for this detector (config/thresholds.json):");
            foreach (var r in shipped)
            {
                sb.AppendLine(c, $"{r.Profile.Name,-20} {r.Threshold,12:G6} {r.RawScore,10:F3} {r.NullScore,10:F3} {r.PerfectScore,8:F1} {r.NormalizedScore,10:F2}");
            }
        }

        if (rates is { Count: > 0 } && results.Count > 0)
        {
            var p = results[0];
            sb.AppendLine();
            sb.AppendLine(c, $"{p.Profile.Name} raw score if the top fraction of scored rows were detections (where the scores carry signal):");
            foreach (var (fraction, threshold, raw) in rates)
            {
                var normalised = p.PerfectScore == p.NullScore ? double.NaN : 100.0 * (raw - p.NullScore) / (p.PerfectScore - p.NullScore);
                sb.AppendLine(c, $"  top {fraction * 100,6:F2} % of rows: threshold {threshold,10:G6}  raw {raw,10:F3}  normalised {normalised,7:F2}");
            }
        }

        if (published.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("Published NAB scoreboard (published_scores.json) with this run inserted, by standard score:");
            var rows = new List<(string Name, double[] Scores, bool Ours)>();
            foreach (var (name, byProfile) in published)
            {
                var s = new double[results.Count];
                for (var p = 0; p < results.Count; p++)
                {
                    s[p] = byProfile.TryGetValue(results[p].Profile.Name, out var v) ? v : double.NaN;
                }

                rows.Add((name, s, false));
            }

            var ours = new double[results.Count];
            for (var p = 0; p < results.Count; p++)
            {
                ours[p] = results[p].NormalizedScore;
            }

            rows.Add(("** " + detector + " (this run)", ours, true));
            rows.Sort(static (a, b) => b.Scores[0].CompareTo(a.Scores[0]));
            sb.Append(c, $"  {"detector",-28}");
            foreach (var r in results)
            {
                sb.Append(c, $" {r.Profile.Name,20}");
            }

            sb.AppendLine();
            foreach (var row in rows)
            {
                sb.Append(c, $"  {row.Name,-28}");
                foreach (var s in row.Scores)
                {
                    sb.Append(c, $" {s,20:F2}");
                }

                sb.AppendLine();
            }
        }

        if (results.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine(c, $"Per-file raw score contributions at each profile's threshold, worst {results[0].Profile.Name} first");
            sb.AppendLine("(loss = the file's perfect score minus its raw score; det = windows detected / windows; fp = false-positive rows):");
            sb.Append(c, $"  {"file",-58} {"perfect",7}");
            foreach (var r in results)
            {
                sb.Append(c, $" {Short(r.Profile.Name) + " raw",10} {"loss",7} {"det",5} {"fp",5}");
            }

            sb.AppendLine();
            var order = new int[results[0].Files.Count];
            for (var i = 0; i < order.Length; i++)
            {
                order[i] = i;
            }

            Array.Sort(order, (a, b) => results[0].Files[a].RawScore.CompareTo(results[0].Files[b].RawScore));
            foreach (var i in order)
            {
                var first = results[0].Files[i];
                sb.Append(c, $"  {first.Name,-58} {first.PerfectScore,7:F1}");
                foreach (var r in results)
                {
                    var f = r.Files[i];
                    sb.Append(c, $" {f.RawScore,10:F3} {f.PerfectScore - f.RawScore,7:F3} {f.DetectedWindows + "/" + (f.DetectedWindows + f.MissedWindows),5} {f.FalsePositiveRows,5}");
                }

                sb.AppendLine();
            }
        }

        return sb.ToString();
    }

    private static string Short(string profile) => profile switch
    {
        "standard" => "std",
        "reward_low_FP_rate" => "lowFP",
        "reward_low_FN_rate" => "lowFN",
        _ => profile,
    };
}
