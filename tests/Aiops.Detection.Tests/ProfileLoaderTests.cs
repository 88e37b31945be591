using Aiops.Core;

namespace Aiops.Detection.Tests;

public class ProfileLoaderTests
{
    [Fact]
    public void AnOutOfRangeValueNamesTheFileTheFieldAndTheRule()
    {
        // ssaRank must be below ssaWindow (16 by default): 40 is out of range.
        var e = Assert.Throws<ProfileValidationException>(() => ProfileLoader.FromJson("""{"kind":"latency","ssaRank":40}""", "latency.json"));
        Assert.Equal("latency.json", e.File);
        Assert.Equal("ssaRank", e.Field);
        Assert.Contains("got 40", e.Reason, StringComparison.Ordinal);
        Assert.StartsWith("latency.json: field 'ssaRank':", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"kind":"generic","spikePvalue":0.01}""", "spikePvalue", "unknown field")]
    [InlineData("""{"kind":"generic","cusumH":"high"}""", "cusumH", "wrong type")]
    [InlineData("""{"ssaWindow":16}""", "kind", "missing")]
    [InlineData("""{"kind":"latencies"}""", "kind", "is not one of")]
    [InlineData("""{"kind":"generic","spikePValue":1.5}""", "spikePValue", "(0, 1)")]
    [InlineData("""{"kind":"generic",""", "$", "malformed JSON")]
    public void EveryKindOfMistakeIsReportedAgainstItsField(string json, string field, string reason)
    {
        var e = Assert.Throws<ProfileValidationException>(() => ProfileLoader.FromJson(json, "p.json"));
        Assert.Equal(field, e.Field);
        Assert.Contains(reason, e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void OmittedFieldsTakeTheBuiltInDefaultsOfTheFilesKind()
    {
        // The latency default alerts on rises only; a file that changes one field keeps that.
        var p = ProfileLoader.FromJson("""{"kind":"latency","cusumH":9}""", "latency.json");
        Assert.Equal(MetricKind.Latency, p.Kind);
        Assert.Equal(9, p.CusumH);
        Assert.Equal(AlertDirection.Up, p.Direction);
        Assert.True(p.TailShiftEnabled);
    }

    [Fact]
    public void AProfileSurvivesAJsonRoundTrip()
    {
        var p = DetectionProfile.Default(MetricKind.Saturation) with { Capacity = 0.95, SsaRank = 2 };
        Assert.Equal(p, ProfileLoader.FromJson(ProfileLoader.ToJson(p), "round-trip"));
    }

    [Fact]
    public void ADirectoryLoadsOneProfilePerKindAndRejectsDuplicates()
    {
        var dir = Directory.CreateTempSubdirectory("aiops-profiles-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "a.json"), """{"kind":"throughput","cusumH":7}""");
            var set = ProfileLoader.LoadDirectory(dir.FullName);
            Assert.Equal(7, set.For(MetricKind.Throughput).CusumH);
            Assert.Equal(DetectionProfile.Default(MetricKind.Latency), set.For(MetricKind.Latency)); // no file: built-in

            File.WriteAllText(Path.Combine(dir.FullName, "b.json"), """{"kind":"throughput"}""");
            var e = Assert.Throws<ProfileValidationException>(() => ProfileLoader.LoadDirectory(dir.FullName));
            Assert.Equal("kind", e.Field);
            Assert.EndsWith("b.json", e.File, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void TheCommittedProfilesAreValid()
    {
        // models/profiles in this repository (found by walking up to Aiops.sln).
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Aiops.sln")))
        {
            root = root.Parent;
        }

        Assert.NotNull(root);
        var set = ProfileLoader.LoadDirectory(Path.Combine(root.FullName, "models", "profiles"));
        Assert.True(set.For(MetricKind.ErrorRate).RateTestEnabled);
        Assert.True(set.For(MetricKind.Saturation).TrendEnabled);
    }
}
