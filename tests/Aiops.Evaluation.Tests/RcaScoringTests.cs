using Aiops.Evaluation;
using Aiops.Pipeline;
using Aiops.Simulation;

namespace Aiops.Evaluation.Tests;

public sealed class RcaScoringTests
{
    private static readonly GroundTruthFault Fault = new()
    {
        Id = "f1",
        Kind = "slow_database",
        RootCause = "db:postgresql",
        StartMs = 1_000_000,
        EndMs = 2_800_000,
    };

    private static IncidentEvent Event(IncidentEventKind kind, string id, long ts, params string[] ranking) => new()
    {
        Kind = kind,
        IncidentId = id,
        TimestampMs = ts,
        OpenedAtMs = ts,
        Summary = "test",
        RootCauses = ranking.Select((node, i) => new RankedCause { Node = node, Rank = i + 1, Score = 1.0 / (i + 1) }).ToArray(),
    };

    [Fact]
    public void TheFinalRankingOfTheFirstIncidentInTheFaultWindowIsScored()
    {
        IncidentEvent[] events =
        [
            Event(IncidentEventKind.Open, "early", 500_000, "cart"),
            Event(IncidentEventKind.Open, "fault", 1_120_000, "frontend", "cart"),
            Event(IncidentEventKind.Update, "fault", 1_300_000, "cart", "frontend", "db:postgresql"),
        ];

        var result = RcaScoring.Score("case", Fault, events);

        // The open at 500 000 precedes the fault (a false incident); the fault's incident opened
        // 120 000 ms after the fault start and its last ranking has the database third.
        Assert.Equal(3, result.Rank);
        Assert.Equal(120_000, result.TimeToFirstIncidentMs);
        Assert.Equal(1, result.FalseIncidents);
        Assert.Equal(0.0, result.AccuracyAt(1));
        Assert.Equal(1.0, result.AccuracyAt(3));

        // Avg@5 = (AC@1 + … + AC@5) / 5 = (0 + 0 + 1 + 1 + 1) / 5.
        Assert.Equal(0.6, result.Average5, 12);
    }

    [Fact]
    public void AFaultWithoutAnIncidentIsAMissAtEveryK()
    {
        var result = RcaScoring.Score("case", Fault, [Event(IncidentEventKind.Open, "late", Fault.EndMs + RcaScoring.GraceMs + 1, "db:postgresql")]);

        Assert.Equal(0, result.Rank);
        Assert.Null(result.TimeToFirstIncidentMs);
        Assert.Equal(0.0, result.Average5);
        Assert.Equal(1, result.FalseIncidents);
    }

    [Fact]
    public void ACandidateNamingTheBadReplicaCountsForItsService()
    {
        var fault = Fault with { Kind = "bad_replica", RootCause = "cart", Instance = "cart-2" };

        var result = RcaScoring.Score("case", fault, [Event(IncidentEventKind.Open, "x", 1_100_000, "cart-2", "frontend")]);

        Assert.Equal(1, result.Rank);
    }

    [Fact]
    public void TheSummaryAveragesOverCases()
    {
        RcaCaseResult[] results =
        [
            new("a", "k", "x", 1, 60_000, "i1", ["x"], 0),
            new("b", "k", "x", 2, 180_000, "i2", ["y", "x"], 1),
            new("c", "k", "x", 0, null, null, [], 0),
        ];

        var summary = RcaScoring.Summarise("k", results);

        // AC@1 = 1/3, AC@3 = 2/3; Avg@5 = (5/5 + 4/5 + 0) / 3 = 0.6; median of {60 000, 180 000} by upper middle = 180 000.
        Assert.Equal(1.0 / 3, summary.Ac1, 12);
        Assert.Equal(2.0 / 3, summary.Ac3, 12);
        Assert.Equal(0.6, summary.Avg5, 12);
        Assert.Equal(2, summary.Detected);
        Assert.Equal(180_000, summary.MedianTimeToFirstIncidentMs);
        Assert.Equal(1, summary.FalseIncidents);
    }
}
