using System.CommandLine;

namespace Aiops.Evaluation.Tests;

public class EvalCommandTests
{
    [Fact]
    public void TheEvalGroupHasTheNabAndGraySubcommands()
    {
        var eval = EvalCommand.Create();

        Assert.Equal("eval", eval.Name);
        Assert.Contains(eval.Subcommands, c => c.Name == "nab");
        Assert.Contains(eval.Subcommands, c => c.Name == "gray");
    }

    [Fact]
    public void EvalGrayRunsTheProductDetectorAndReportsEveryFaultKind()
    {
        var root = new RootCommand { EvalCommand.Create() };
        var stdout = new StringWriter();
        var config = new InvocationConfiguration { Output = stdout, Error = new StringWriter() };

        var exit = root.Parse(["eval", "gray", "--cases", "1", "--seed", "3", "--threads", "1"]).Invoke(config);

        Assert.Equal(0, exit);
        var text = stdout.ToString();
        Assert.Contains("detector 'aiops'", text, StringComparison.Ordinal);
        foreach (var kind in new[] { "MemoryLeak", "ErrorRate", "TailLatency", "LevelShift", "SeasonalSpike" })
        {
            Assert.Contains(kind, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AMissingProfileFolderIsReportedNotThrown()
    {
        var root = new RootCommand { EvalCommand.Create() };
        var stderr = new StringWriter();
        var config = new InvocationConfiguration { Output = new StringWriter(), Error = stderr };

        var exit = root.Parse(["eval", "gray", "--cases", "1", "--profiles", "/nonexistent/profiles"]).Invoke(config);

        Assert.Equal(1, exit);
        Assert.Contains("does not exist", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ZeroCasesIsAParseErrorButTheDefaultIsAccepted()
    {
        var root = new RootCommand { EvalCommand.Create() };

        Assert.NotEmpty(root.Parse(["eval", "gray", "--cases", "0"]).Errors);
        Assert.Empty(root.Parse(["eval", "gray"]).Errors);
    }
}
