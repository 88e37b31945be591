using Aiops.Evaluation.Nab;

namespace Aiops.Evaluation.Tests;

public class NabCorpusTests
{
    private const string Csv =
        "timestamp,value\n" +
        "2014-04-01 00:00:00,10\n" +
        "2014-04-01 00:05:00,11.5\n" +
        "2014-04-01 00:10:00,12\n" +
        "2014-04-01 00:15:00,13\n" +
        "2014-04-01 00:20:00,14\n" +
        "2014-04-01 00:25:00,15";

    [Fact]
    public void WindowsAreMappedToTheRowsBetweenTheirStartAndEndInclusive()
    {
        var windows = NabCorpus.ReadWindows("""{"cat/f.csv": [["2014-04-01 00:05:00.000000", "2014-04-01 00:15:00.000000"]]}""");

        var file = NabCorpus.Parse("cat/f.csv", new StringReader(Csv), windows["cat/f.csv"]);

        // 00:05 is row 1 and 00:15 is row 3 of the six data rows above.
        Assert.Equal(new NabWindow(1, 3), Assert.Single(file.Windows));
        Assert.Equal(6, file.Count);
        Assert.Equal("cat", file.Category);
        Assert.Equal("f.csv", file.FileName);
        Assert.Equal("11.5", file.ValueText[1]); // kept as written, so results repeat it byte for byte
        Assert.Equal(new DateTimeOffset(2014, 4, 1, 0, 5, 0, TimeSpan.Zero).ToUnixTimeMilliseconds(), file.TimestampsMs[1]);
    }

    [Fact]
    public void ATimestampThatStepsBackIsKeptInRowOrderAsNabScoresByRow()
    {
        // NAB's machine_temperature_system_failure.csv steps back an hour mid-file; NAB keeps the row.
        const string text = "timestamp,value\n2014-01-07 02:50:00,1\n2014-01-07 02:55:00,2\n2014-01-07 02:00:00,3\n2014-01-07 02:05:00,4\n";

        var file = NabCorpus.Parse("c/m.csv", new StringReader(text), []);

        Assert.Equal(4, file.Count);
        Assert.Equal(3.0, file.Values[2]);
    }

    [Fact]
    public void AMalformedRowIsReportedWithFileAndLine()
    {
        const string text = "timestamp,value\n2014-04-01 00:00:00,1\n2014-04-01 00:05:00,abc\n";

        var e = Assert.Throws<InvalidDataException>(() => NabCorpus.Parse("c/bad.csv", new StringReader(text), []));

        Assert.Contains("c/bad.csv:3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AWindowThatCoversNoRowIsAnError()
    {
        var windows = NabCorpus.ReadWindows("""{"c/f.csv": [["2015-01-01 00:00:00", "2015-01-02 00:00:00"]]}""");

        Assert.Throws<InvalidDataException>(() => NabCorpus.Parse("c/f.csv", new StringReader(Csv), windows["c/f.csv"]));
    }

    [Fact]
    public void ProfilesAreReadFromNabsCostMatrixFormat()
    {
        var profiles = NabProfile.Parse("""{"standard": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11, "tnWeight": 1.0}}}""");

        Assert.Equal(new NabProfile("standard", 1.0, 0.11, 1.0), Assert.Single(profiles));
        Assert.Throws<InvalidDataException>(() => NabProfile.Parse("""{"x": {"CostMatrix": {"tpWeight": 1.0}}}"""));
    }
}
