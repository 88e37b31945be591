using System.Globalization;
using System.Text.Json;

namespace Aiops.Evaluation.Nab;

/// <summary>One NAB data file: its rows as text (written back unchanged) and parsed, and its windows.</summary>
/// <param name="RelativePath">Path under <c>data/</c> with '/' separators, e.g. <c>realKnownCause/nyc_taxi.csv</c>.</param>
/// <param name="TimestampText">The <c>timestamp</c> column as written in the file.</param>
/// <param name="TimestampsMs">The timestamps as Unix milliseconds (NAB's timestamps are UTC wall times).</param>
/// <param name="ValueText">The <c>value</c> column as written in the file.</param>
/// <param name="Values">The parsed values.</param>
/// <param name="Windows">The file's labelled windows as row ranges.</param>
internal sealed record NabDataFile(string RelativePath, string[] TimestampText, long[] TimestampsMs, string[] ValueText, double[] Values, NabWindow[] Windows)
{
    /// <summary>The category folder, e.g. <c>realKnownCause</c>.</summary>
    public string Category => RelativePath[..RelativePath.IndexOf('/', StringComparison.Ordinal)];

    /// <summary>The file name, e.g. <c>nyc_taxi.csv</c>.</summary>
    public string FileName => RelativePath[(RelativePath.IndexOf('/', StringComparison.Ordinal) + 1)..];

    /// <summary>Number of data rows.</summary>
    public int Count => Values.Length;
}

/// <summary>
/// Loads NAB's layout: <c>data/&lt;category&gt;/&lt;file&gt;.csv</c> (<c>timestamp,value</c>),
/// <c>labels/combined_windows.json</c> and <c>config/profiles.json</c>.
/// </summary>
internal static class NabCorpus
{
    private static readonly string[] TimestampFormats =
    [
        "yyyy-MM-dd HH:mm:ss",
        "yyyy-MM-dd HH:mm:ss.FFFFFFF",
        "yyyy-MM-ddTHH:mm:ss",
        "yyyy-MM-ddTHH:mm:ss.FFFFFFF",
    ];

    /// <summary>Relative paths of every data CSV under <c>&lt;root&gt;/data</c>, sorted ordinally.</summary>
    /// <exception cref="DirectoryNotFoundException">There is no <c>data</c> folder.</exception>
    public static List<string> DataFiles(string root)
    {
        var dataDir = Path.Combine(root, "data");
        if (!Directory.Exists(dataDir))
        {
            throw new DirectoryNotFoundException($"NAB data folder not found: {dataDir} (expected <nab>/data/<category>/<file>.csv)");
        }

        var files = new List<string>();
        foreach (var path in Directory.EnumerateFiles(dataDir, "*.csv", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(dataDir, path).Replace('\\', '/');
            if (relative.Contains('/', StringComparison.Ordinal))
            {
                files.Add(relative);
            }
        }

        files.Sort(StringComparer.Ordinal);
        return files;
    }

    /// <summary>Reads <c>combined_windows.json</c>: relative data path → list of [start, end] timestamps.</summary>
    /// <exception cref="InvalidDataException">The file does not have that shape.</exception>
    public static Dictionary<string, List<(long StartMs, long EndMs)>> ReadWindows(string json)
    {
        using var doc = JsonDocument.Parse(json);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException("windows: expected a JSON object of data path -> [[start, end], ...]");
        }

        var result = new Dictionary<string, List<(long, long)>>(StringComparer.Ordinal);
        foreach (var entry in doc.RootElement.EnumerateObject())
        {
            var list = new List<(long, long)>();
            if (entry.Value.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException($"windows: '{entry.Name}' is not an array of [start, end] pairs");
            }

            foreach (var pair in entry.Value.EnumerateArray())
            {
                if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2
                    || pair[0].ValueKind != JsonValueKind.String || pair[1].ValueKind != JsonValueKind.String)
                {
                    throw new InvalidDataException($"windows: '{entry.Name}' has an entry that is not a [start, end] pair of timestamps");
                }

                var start = ParseTimestamp(pair[0].GetString()!, $"windows '{entry.Name}'");
                var end = ParseTimestamp(pair[1].GetString()!, $"windows '{entry.Name}'");
                if (end < start)
                {
                    throw new InvalidDataException($"windows: '{entry.Name}' has a window ending before it starts");
                }

                list.Add((start, end));
            }

            list.Sort();
            result[entry.Name.Replace('\\', '/')] = list;
        }

        return result;
    }

    /// <summary>Reads one data file and maps its windows onto row ranges.</summary>
    /// <exception cref="InvalidDataException">A row is malformed, timestamps go backwards, or a window covers no row.</exception>
    public static NabDataFile ReadDataFile(string root, string relativePath, IReadOnlyList<(long StartMs, long EndMs)> windows)
    {
        var path = Path.Combine(root, "data", relativePath);
        using var reader = new StreamReader(path);
        return Parse(relativePath, reader, windows);
    }

    /// <summary>Parses <c>timestamp,value</c> CSV text (with header) and maps windows onto rows.</summary>
    /// <exception cref="InvalidDataException">A row is malformed, timestamps go backwards, or a window covers no row.</exception>
    public static NabDataFile Parse(string relativePath, TextReader reader, IReadOnlyList<(long StartMs, long EndMs)> windows)
    {
        var header = reader.ReadLine() ?? throw new InvalidDataException($"{relativePath}: empty file");
        var columns = header.Split(',');
        var tsColumn = Array.IndexOf(columns, "timestamp");
        var valueColumn = Array.IndexOf(columns, "value");
        if (tsColumn < 0 || valueColumn < 0)
        {
            throw new InvalidDataException($"{relativePath}: header '{header}' lacks the columns timestamp and value");
        }

        var tsText = new List<string>();
        var ts = new List<long>();
        var valueText = new List<string>();
        var values = new List<double>();
        var lineNumber = 1;
        string? line;
        while ((line = reader.ReadLine()) != null)
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }

            var fields = line.Split(',');
            if (fields.Length != columns.Length)
            {
                throw new InvalidDataException($"{relativePath}:{lineNumber}: expected {columns.Length} fields, found {fields.Length}");
            }

            // NAB's data is not strictly ordered (machine_temperature_system_failure.csv steps back
            // an hour at row 10,150); NAB scores by row, so rows are kept as they are and the
            // detector sees them in file order, as NAB's detectors do.
            var t = ParseTimestamp(fields[tsColumn], $"{relativePath}:{lineNumber}");

            if (!double.TryParse(fields[valueColumn], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
            {
                throw new InvalidDataException($"{relativePath}:{lineNumber}: value '{fields[valueColumn]}' is not a finite number");
            }

            tsText.Add(fields[tsColumn]);
            ts.Add(t);
            valueText.Add(fields[valueColumn]);
            values.Add(v);
        }

        var rows = ts.ToArray();
        var mapped = new NabWindow[windows.Count];
        var searchFrom = 0;
        for (var w = 0; w < windows.Count; w++)
        {
            // The window opens at the first row at or after its start and runs over the
            // contiguous rows with start <= t <= end (NAB's sweeper enters a window on the row whose
            // timestamp equals the start and leaves it on the row equal to the end).
            var (start, end) = windows[w];
            var first = searchFrom;
            while (first < rows.Length && rows[first] < start)
            {
                first++;
            }

            if (first == rows.Length || rows[first] > end)
            {
                throw new InvalidDataException($"{relativePath}: window {w} [{start}, {end}] covers no data row");
            }

            var last = first;
            while (last + 1 < rows.Length && rows[last + 1] >= start && rows[last + 1] <= end)
            {
                last++;
            }

            searchFrom = last + 1;

            mapped[w] = new NabWindow(first, last);
        }

        return new NabDataFile(relativePath, [.. tsText], rows, [.. valueText], [.. values], mapped);
    }

    /// <summary>Parses a NAB timestamp (<c>yyyy-MM-dd HH:mm:ss[.ffffff]</c>, UTC) to Unix milliseconds.</summary>
    public static long ParseTimestamp(string text, string where)
    {
        if (!DateTime.TryParseExact(text.Trim(), TimestampFormats, CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t))
        {
            throw new InvalidDataException($"{where}: '{text}' is not a timestamp of the form yyyy-MM-dd HH:mm:ss");
        }

        return new DateTimeOffset(t, TimeSpan.Zero).ToUnixTimeMilliseconds();
    }
}
