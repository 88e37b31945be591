using Aiops.Core;
using Aiops.Ingestion.Csv;

namespace Aiops.Ingestion.Tests;

public class CsvSeriesReaderTests
{
    [Fact]
    public void NabRowsBecomePointsAndABadRowIsReportedWithItsLine()
    {
        const string csv = """
            timestamp,value
            2014-04-01 00:00:00,20.5
            2014-04-01 00:05:00,not-a-number
            2014-04-01 00:10:00,21
            yesterday,3
            """;
        var key = new SeriesKey("nab", "cpu");
        List<CsvRowResult> rows = CsvSeriesReader.Read(new StringReader(csv), key, MetricKind.Saturation).ToList();
        Assert.Equal(4, rows.Count);

        // 2014-04-01T00:00:00Z = 1,396,310,400 s since the Unix epoch.
        Assert.False(rows[0].IsError);
        Assert.Equal(new MetricPoint(key, MetricKind.Saturation, 1_396_310_400_000, 20.5), rows[0].Point);
        Assert.True(rows[1].IsError);
        Assert.Equal(DecodeErrorKind.InvalidValue, rows[1].Error.Kind);
        Assert.Equal(3, rows[1].Error.Position);
        Assert.Contains("not-a-number", rows[1].Error.Reason, StringComparison.Ordinal);
        Assert.Equal(1_396_310_400_000 + 600_000, rows[2].Point.TimestampMs);
        Assert.True(rows[3].IsError);
        Assert.Contains("yesterday", rows[3].Error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ARowWithTooManyColumnsIsAShapeError()
    {
        CsvRowResult r = CsvSeriesReader.ParseRow("2014-04-01 00:00:00,1,2", 2, new SeriesKey("a", "b"), MetricKind.Generic);
        Assert.True(r.IsError);
        Assert.Equal(DecodeErrorKind.MalformedJson, r.Error.Kind);
    }
}
