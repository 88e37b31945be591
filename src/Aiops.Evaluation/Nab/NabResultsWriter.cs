using System.Globalization;
using System.Text;

namespace Aiops.Evaluation.Nab;

/// <summary>
/// Writes detector output in the layout NAB's scorer reads:
/// <c>&lt;out&gt;/&lt;detector&gt;/&lt;category&gt;/&lt;detector&gt;_&lt;file&gt;.csv</c> with the columns
/// <c>timestamp,value,anomaly_score,label</c>, one row per data row in data order.
/// </summary>
internal static class NabResultsWriter
{
    /// <summary>Checks a detector name against NAB's rule: its normaliser splits file names on '_' and '.'.</summary>
    /// <exception cref="ArgumentException">The name is empty or contains '_', '.', or a path separator.</exception>
    public static void ValidateDetectorName(string detector)
    {
        if (string.IsNullOrWhiteSpace(detector) || detector.AsSpan().IndexOfAny("_./\\") >= 0)
        {
            throw new ArgumentException($"detector name '{detector}' must be non-empty and contain no '_', '.', '/' or '\\' (NAB splits result file names on '_' and '.')", nameof(detector));
        }
    }

    /// <summary>The results path of one data file.</summary>
    public static string ResultPath(string outDir, string detector, NabDataFile file) =>
        Path.Combine(outDir, detector, file.Category, detector + "_" + file.FileName);

    /// <summary>Writes one results file; scores that are NaN or outside [0, 1] are written as 0 or clamped.</summary>
    /// <returns>The path written.</returns>
    public static string Write(string outDir, string detector, NabDataFile file, double[] scores)
    {
        ValidateDetectorName(detector);
        if (scores.Length != file.Count)
        {
            throw new ArgumentException($"{file.RelativePath}: {scores.Length} scores for {file.Count} rows", nameof(scores));
        }

        var path = ResultPath(outDir, detector, file);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false));
        Write(writer, file, scores);
        return path;
    }

    /// <summary>Writes the CSV text of one results file.</summary>
    public static void Write(TextWriter writer, NabDataFile file, double[] scores)
    {
        writer.NewLine = "\n";
        writer.WriteLine("timestamp,value,anomaly_score,label");
        var windowIndex = 0;
        for (var i = 0; i < file.Count; i++)
        {
            while (windowIndex < file.Windows.Length && file.Windows[windowIndex].LastRow < i)
            {
                windowIndex++;
            }

            var inWindow = windowIndex < file.Windows.Length && file.Windows[windowIndex].FirstRow <= i;
            writer.Write(file.TimestampText[i]);
            writer.Write(',');
            writer.Write(file.ValueText[i]);
            writer.Write(',');
            writer.Write(Sanitize(scores[i]).ToString("R", CultureInfo.InvariantCulture));
            writer.Write(',');
            writer.WriteLine(inWindow ? '1' : '0');
        }
    }

    /// <summary>Maps a detector score into [0, 1]; NaN (no score yet) becomes 0, as NAB requires for warm-up rows.</summary>
    public static double Sanitize(double score) => double.IsNaN(score) ? 0.0 : Math.Clamp(score, 0.0, 1.0);
}
