using Aiops.Evaluation;

namespace Aiops.Evaluation.Tests;

public sealed class RcaDiagnosticsTests
{
    [Fact]
    public void VerboseEvaluationExplainsEachCaseWithItsRankingAndTheFateOfTheFaultyNodesVerdicts()
    {
        // The suite's first case (seed 1): CPU saturation on email, 6 h warm-up, 30-min fault.
        var report = RcaEvaluation.Run(new RcaEvaluationOptions { Seed = 1, Cases = 1, FaultFreeDays = 0, Parallelism = 1, Verbose = true });

        var block = Assert.Single(report.Diagnostics);
        var result = Assert.Single(report.Cases);
        Assert.StartsWith($"== {result.Case} rank={result.Rank} cause=email", block, StringComparison.Ordinal);

        // The scored incident's ranking, rank by rank, with the evidence of each candidate …
        Assert.Contains($"#1 {result.TopCandidates[0]} score=", block, StringComparison.Ordinal);
        Assert.Contains("email/process.cpu.utilization", block, StringComparison.Ordinal);

        // … and what the pipeline did with the verdicts on the faulty node.
        Assert.Contains(" Forwarded x", block, StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutVerboseThereAreNoDiagnostics()
    {
        var report = RcaEvaluation.Run(new RcaEvaluationOptions { Seed = 1, Cases = 1, FaultFreeDays = 0, Parallelism = 1, Only = "01-" });

        Assert.Empty(report.Diagnostics);
        Assert.Equal("", report.FormatDiagnostics());
    }
}
