using System.Globalization;
using Aiops.Core;

namespace Aiops.Ingestion.Csv;

/// <summary>The outcome of one CSV data row: a point, or an error (never an exception).</summary>
/// <param name="IsError">True when the row could not be read; see <see cref="Error"/>.</param>
/// <param name="Point">The point when <see cref="IsError"/> is false.</param>
/// <param name="Error">The error when <see cref="IsError"/> is true.</param>
public readonly record struct CsvRowResult(bool IsError, MetricPoint Point, DecodeError Error);

/// <summary>
/// Reads a single series in the NAB (Numenta Anomaly Benchmark) CSV layout: a header row, then
/// <c>timestamp,value</c> rows with timestamps as <c>YYYY-MM-DD HH:MM:SS</c> in UTC. ISO 8601
/// (<c>T</c> separator, optional <c>Z</c>) and Unix milliseconds are accepted too. Every row
/// becomes a <see cref="MetricPoint"/> of the given series and kind; a bad row is reported with
/// its line number and does not stop the rest.
/// </summary>
public static class CsvSeriesReader
{
    private static readonly string[] TimestampFormats =
    [
        "yyyy-MM-dd HH:mm:ss",
        "yyyy-MM-dd HH:mm:ss.FFFFFFF",
        "yyyy-MM-ddTHH:mm:ss",
        "yyyy-MM-ddTHH:mm:ss.FFFFFFF",
        "yyyy-MM-ddTHH:mm:ssZ",
        "yyyy-MM-ddTHH:mm:ss.FFFFFFFZ",
    ];

    /// <summary>Reads a CSV file.</summary>
    public static IEnumerable<CsvRowResult> ReadFile(string path, SeriesKey series, MetricKind kind = MetricKind.Generic)
    {
        using var reader = new StreamReader(path);
        foreach (CsvRowResult r in Read(reader, series, kind))
        {
            yield return r;
        }
    }

    /// <summary>Reads CSV text; the first non-blank line is the header and is skipped.</summary>
    public static IEnumerable<CsvRowResult> Read(TextReader reader, SeriesKey series, MetricKind kind = MetricKind.Generic)
    {
        ArgumentNullException.ThrowIfNull(reader);
        long lineNumber = 0;
        bool header = true;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            if (header)
            {
                header = false;
                continue;
            }

            yield return ParseRow(line, lineNumber, series, kind);
        }
    }

    internal static CsvRowResult ParseRow(string line, long lineNumber, SeriesKey series, MetricKind kind)
    {
        ReadOnlySpan<char> row = line.AsSpan().Trim();
        int comma = row.IndexOf(',');
        if (comma < 0)
        {
            return Fail(DecodeErrorKind.MalformedJson, "expected 'timestamp,value' but found no comma", lineNumber);
        }

        ReadOnlySpan<char> tsText = row[..comma].Trim().Trim('"');
        ReadOnlySpan<char> valueText = row[(comma + 1)..].Trim().Trim('"');
        if (valueText.Contains(','))
        {
            return Fail(DecodeErrorKind.MalformedJson, "expected two columns 'timestamp,value' but found more", lineNumber);
        }

        long ms;
        if (DateTime.TryParseExact(tsText, TimestampFormats, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out DateTime dt))
        {
            ms = new DateTimeOffset(dt, TimeSpan.Zero).ToUnixTimeMilliseconds();
        }
        else if (!long.TryParse(tsText, NumberStyles.Integer, CultureInfo.InvariantCulture, out ms))
        {
            return Fail(DecodeErrorKind.InvalidValue, $"timestamp '{tsText}' is not 'YYYY-MM-DD HH:MM:SS' (UTC) or Unix milliseconds", lineNumber);
        }

        if (!double.TryParse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
        {
            return Fail(DecodeErrorKind.InvalidValue, $"value '{valueText}' is not a number", lineNumber);
        }

        if (!double.IsFinite(value))
        {
            return Fail(DecodeErrorKind.NonFiniteValue, $"value '{valueText}' is not finite", lineNumber);
        }

        return new CsvRowResult(false, new MetricPoint(series, kind, ms, value), default);
    }

    private static CsvRowResult Fail(DecodeErrorKind kind, string reason, long lineNumber) =>
        new(true, default, new DecodeError(kind, $"line {lineNumber}: {reason}", lineNumber));
}
