using Aiops.Simulation;
using Aiops.Worker.Demo;
using Aiops.Worker.Processing;

namespace Aiops.Worker.Tests;

public sealed class DemoScoringTests
{
    private const long Minute = 60_000;

    private static readonly GroundTruthFault Fault = new() { Id = "f1", Kind = "cpu_saturation", RootCause = "payment", StartMs = 100 * Minute, EndMs = 120 * Minute };

    private static IncidentMessage Incident(string id, string @event, long openedAtMs, params string[] ranking) => new()
    {
        IncidentId = id,
        Event = @event,
        EventTimeMs = openedAtMs,
        OpenedAtMs = openedAtMs,
        Symptom = "s",
        RootCauses = [.. ranking.Select((s, i) => new RootCauseMessage { Rank = i + 1, Service = s, Score = 1.0 / (i + 1) })],
    };

    [Fact]
    public void TheBestRankAnyEventOfAnIncidentGaveTheRootCauseCounts()
    {
        // Opened with payment second, an update moved it first: the incident ranked it first.
        var (incident, rank) = DemoScoring.BestMatch(Fault, [Incident("a", "open", 101 * Minute, "frontend", "payment"), Incident("a", "update", 101 * Minute, "payment", "frontend")]);

        Assert.Equal("a", incident?.IncidentId);
        Assert.Equal(1, rank);
    }

    [Fact]
    public void IncidentsOutsideTheFaultWindowDoNotCount()
    {
        // The window is 5 minutes before the start (95) to 10 minutes after the end (130).
        var (incident, rank) = DemoScoring.BestMatch(Fault, [Incident("early", "open", 94 * Minute, "payment"), Incident("late", "open", 131 * Minute, "payment")]);

        Assert.Null(incident);
        Assert.Null(rank);
    }

    [Fact]
    public void AnIncidentInTheWindowThatMissesTheRootCauseIsReportedWithoutARank()
    {
        var (incident, rank) = DemoScoring.BestMatch(Fault, [Incident("b", "open", 110 * Minute, "frontend", "cart")]);

        Assert.Equal("b", incident?.IncidentId);
        Assert.Null(rank);
    }
}
