using System.CommandLine;
using System.Globalization;
using Aiops.Core;
using Aiops.Evaluation.Detectors;
using Aiops.Evaluation.Nab;

namespace Aiops.Evaluation.Tests;

/// <summary>End-to-end runs over a tiny NAB-shaped folder made in a temporary directory.</summary>
public sealed class NabRunnerTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "aiops-nab-" + Guid.NewGuid().ToString("N"));

    public NabRunnerTests()
    {
        // Two categories, three files of 40 rows (6 probationary rows each). File "spiky" has a
        // jump to 100 at rows 20..23 inside its window (rows 18..25); "flat" has no window.
        Directory.CreateDirectory(Path.Combine(_root, "data", "realA"));
        Directory.CreateDirectory(Path.Combine(_root, "data", "realB"));
        Directory.CreateDirectory(Path.Combine(_root, "labels"));
        File.WriteAllText(Path.Combine(_root, "data", "realA", "spiky.csv"), Series(i => i is >= 20 and <= 23 ? 100 : 10));
        File.WriteAllText(Path.Combine(_root, "data", "realA", "flat.csv"), Series(_ => 10));
        File.WriteAllText(Path.Combine(_root, "data", "realB", "other_file.csv"), Series(i => i == 30 ? 50 : 10));
        File.WriteAllText(Path.Combine(_root, "data", "README.md"), "not data");
        File.WriteAllText(Path.Combine(_root, "labels", "combined_windows.json"), $$"""
            {
              "realA/spiky.csv": [["{{Stamp(18)}}.000000", "{{Stamp(25)}}.000000"]],
              "realA/flat.csv": [],
              "realB/other_file.csv": [["{{Stamp(28)}}.000000", "{{Stamp(33)}}.000000"]]
            }
            """);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void ResultsFollowNabsLayoutWithOneRowPerDataRow()
    {
        var outDir = Path.Combine(_root, "out");

        var result = NabRunner.Run(new NabRunOptions(_root, outDir, "mydet", 2), new JumpDetector());

        Assert.Equal(3, result.Files);
        var path = Path.Combine(outDir, "mydet", "realA", "mydet_spiky.csv");
        var lines = File.ReadAllLines(path);
        Assert.Equal("timestamp,value,anomaly_score,label", lines[0]);
        Assert.Equal(41, lines.Length); // header + 40 data rows
        Assert.Equal($"{Stamp(0)},10,0,0", lines[1]); // first row: no history, score 0 (warm-up), outside the window
        Assert.Equal($"{Stamp(20)},100,1,1", lines[21]); // the jump: score 1, inside the window
        Assert.Equal($"{Stamp(18)},10,0,1", lines[19]); // window's first row: label 1
        Assert.Equal($"{Stamp(26)},10,0,0", lines[27]); // first row after the window: label 0
        Assert.True(File.Exists(Path.Combine(outDir, "mydet", "realB", "mydet_other_file.csv")));
        Assert.Equal(3, Directory.GetFiles(Path.Combine(outDir, "mydet"), "*.csv", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public void AJumpDetectorThatHitsEveryWindowAtItsThirdRowScoresAsComputedByHand()
    {
        var result = NabRunner.Run(new NabRunOptions(_root, Path.Combine(_root, "out"), "mydet", 1), new JumpDetector());

        // The detector scores 1 on rows 20 (spiky, first row of the jump) and 30 (other_file), and on
        // the rows right after each jump ends (24 in spiky, 31 in other_file: the value changes again).
        // Best threshold: 1 (only those rows). spiky: window 18..25, W = 8, detection at 20:
        // −(25 − 20 + 1)/8 = −0.75 → tanh(1.875)/tanh(2.5) = 0.96698909; row 24 is later in the window.
        // other_file: window 28..33, W = 6, detection at 30: −(33 − 30 + 1)/6 = −2/3 → tanh(5/3)/tanh(2.5)
        // = 0.93110961/0.98661430 = 0.94374226; row 31 is later in the window.
        // Raw = 1.91073135; null = −2; perfect = 2 → 100 · 3.91073135/4 = 97.768284.
        var standard = result.Profiles[0];
        Assert.Equal("standard", standard.Profile.Name);
        Assert.Equal(1.0, standard.Threshold);
        Assert.Equal(1.91073135, standard.RawScore, 1e-7);
        Assert.Equal(97.768284, standard.NormalizedScore, 5);
        Assert.Contains("standard", result.Report, StringComparison.Ordinal);
        Assert.Contains("realA/spiky.csv", result.Report, StringComparison.Ordinal);
    }

    [Fact]
    public void TheEvalNabCommandRunsAndPrintsTheScoreTable()
    {
        var root = new RootCommand { EvalCommand.Create(new JumpDetector()) };
        var stdout = new StringWriter();
        var config = new InvocationConfiguration { Output = stdout, Error = new StringWriter() };

        var exit = root.Parse(["eval", "nab", "--data", _root, "--out", Path.Combine(_root, "cli"), "--detector-name", "jump"]).Invoke(config);

        Assert.Equal(0, exit);
        Assert.Contains("reward_low_FN_rate", stdout.ToString(), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_root, "cli", "jump", "realA", "jump_flat.csv")));
    }

    [Fact]
    public void TheCommandReportsAMissingDataFolderAsAnErrorNotACrash()
    {
        var root = new RootCommand { EvalCommand.Create(new JumpDetector()) };
        var stderr = new StringWriter();
        var config = new InvocationConfiguration { Output = new StringWriter(), Error = stderr };

        var exit = root.Parse(["eval", "nab", "--data", Path.Combine(_root, "missing"), "--out", Path.Combine(_root, "o")]).Invoke(config);

        Assert.Equal(1, exit);
        Assert.Contains("not found", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ScoringWrittenResultFilesAgainGivesTheSameScoresAndUsesShippedThresholds()
    {
        var outDir = Path.Combine(_root, "out");
        var detected = NabRunner.Run(new NabRunOptions(_root, outDir, "mydet", 2), new JumpDetector());
        Directory.CreateDirectory(Path.Combine(_root, "config"));
        File.WriteAllText(Path.Combine(_root, "config", "thresholds.json"), """{"mydet": {"standard": {"score": 0, "threshold": 2.0}}}""");

        var rescored = NabRunner.Run(new NabRunOptions(_root, outDir, "mydet", 2, ScoreOnly: true), new JumpDetector());

        // Scores are written in round-trip format, so reading them back reproduces every raw score exactly.
        for (var p = 0; p < detected.Profiles.Count; p++)
        {
            Assert.Equal(detected.Profiles[p].RawScore, rescored.Profiles[p].RawScore);
            Assert.Equal(detected.Profiles[p].Threshold, rescored.Profiles[p].Threshold);
        }

        // A shipped threshold of 2.0 detects nothing: both windows missed → raw −2, normalised 0.
        Assert.Contains("At the thresholds NAB ships", rescored.Report, StringComparison.Ordinal);
        Assert.Matches(@"standard\s+2\s+-2\.000\s+-2\.000\s+2\.0\s+0\.00", rescored.Report);
    }

    [Fact]
    public void ScoringAResultFileWithTheWrongRowCountIsAnError()
    {
        var outDir = Path.Combine(_root, "out");
        NabRunner.Run(new NabRunOptions(_root, outDir, "mydet", 1), new JumpDetector());
        var path = Path.Combine(outDir, "mydet", "realA", "mydet_flat.csv");
        File.WriteAllLines(path, File.ReadAllLines(path)[..^1]);

        var e = Assert.Throws<InvalidDataException>(() => NabRunner.Run(new NabRunOptions(_root, outDir, "mydet", 1, ScoreOnly: true), new JumpDetector()));

        Assert.Contains("39 rows, the data file has 40", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ADetectorNameWithAnUnderscoreIsRejected() =>
        Assert.Throws<ArgumentException>(() => NabRunner.Run(new NabRunOptions(_root, Path.Combine(_root, "o"), "my_det", 1), new JumpDetector()));

    private static string Stamp(int row) =>
        new DateTime(2014, 4, 1, 0, 0, 0, DateTimeKind.Utc).AddMinutes(5 * row).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string Series(Func<int, int> value)
    {
        var lines = new List<string> { "timestamp,value" };
        for (var i = 0; i < 40; i++)
        {
            lines.Add(Stamp(i) + "," + value(i).ToString(CultureInfo.InvariantCulture));
        }

        return string.Join('\n', lines) + "\n";
    }

    /// <summary>Scores 1 when the value differs from the previous one, else 0 (and 0 on the first point).</summary>
    private sealed class JumpDetector : IDetectorFactory
    {
        public string Name => "jump";

        public ISeriesDetector Create(SeriesKey series, MetricKind kind, double? capacity = null) => new Instance();

        private sealed class Instance : ISeriesDetector
        {
            private double? _last;

            public DetectorOutput Observe(in MetricPoint point)
            {
                var score = _last is { } last && last != point.Value ? 1.0 : 0.0;
                _last = point.Value;
                return new DetectorOutput(score, null);
            }
        }
    }
}
