using Aiops.Core;
using static Aiops.Topology.Tests.Anomalies;

namespace Aiops.Topology.Tests;

public class IncidentCorrelatorTests
{
    private const long T = 1_700_000_040_000; // a whole minute, so the id bucket is T itself

    private static ServiceGraph Shop()
    {
        var g = new ServiceGraph();
        g.AddEdge("frontend", "checkout", T);
        g.AddEdge("checkout", "payment", T);
        g.AddEdge("payment", "db:postgresql", T);
        g.AddEdge("search", "index", T); // a separate component
        return g;
    }

    private static Anomaly[] PaymentOutage() =>
    [
        Make("payment", RedMetrics.LatencyP99, MetricKind.Latency, T, 0.8),
        Make("checkout", RedMetrics.LatencyP99, MetricKind.Latency, T + 60_000, 0.95),
        Make("frontend", RedMetrics.LatencyP99, MetricKind.Latency, T + 120_000, 0.99),
    ];

    private static List<IncidentEvent> Run(IncidentCorrelator correlator, IEnumerable<Anomaly> anomalies, long until)
    {
        var events = new List<IncidentEvent>();
        foreach (var a in anomalies)
        {
            correlator.Observe(a);
            events.AddRange(correlator.AdvanceTo(a.TimestampMs));
        }

        for (long t = T; t <= until; t += 60_000)
        {
            events.AddRange(correlator.AdvanceTo(t));
        }

        return events;
    }

    [Fact]
    public void ConnectedAnomaliesCloseInTimeFormOneIncident()
    {
        var correlator = new IncidentCorrelator(Shop());
        var events = Run(correlator, PaymentOutage(), T + (5 * 60_000));

        var open = Assert.Single(events, e => e.Kind == IncidentEventKind.Open);
        // Opened at T + 60 s (the open delay), before frontend's verdict: it arrives as an update.
        Assert.Equal(T + 60_000, open.TimestampMs);
        var last = events[^1].Incident;
        Assert.Equal(["checkout", "frontend", "payment"], last.Nodes);
        Assert.Equal("payment", last.RootCauses[0].Node);
        Assert.Equal("frontend", last.Symptom);
        Assert.Contains(events, e => e.Kind == IncidentEventKind.Update);
        Assert.All(events, e => Assert.Equal(open.Incident.Id, e.Incident.Id));
    }

    [Fact]
    public void ReplayingTheSameAnomaliesMakesNoSecondIncident()
    {
        var correlator = new IncidentCorrelator(Shop());
        var anomalies = PaymentOutage();
        var first = Run(correlator, anomalies, T + (5 * 60_000));
        var replay = Run(correlator, anomalies, T + (6 * 60_000));

        Assert.Single(first, e => e.Kind == IncidentEventKind.Open);
        Assert.DoesNotContain(replay, e => e.Kind == IncidentEventKind.Open);
        Assert.Equal(3, correlator.DuplicateAnomalies);
        Assert.Equal(1, correlator.OpenCount);
    }

    [Fact]
    public void ReplayingAfterTheIncidentResolvedDoesNotReopenIt()
    {
        var correlator = new IncidentCorrelator(Shop());
        var anomalies = PaymentOutage();
        var first = Run(correlator, anomalies, T + (30 * 60_000));
        Assert.Single(first, e => e.Kind == IncidentEventKind.Resolve);

        var replay = Run(correlator, anomalies, T + (31 * 60_000));
        Assert.Empty(replay);
    }

    [Fact]
    public void AFreshCorrelatorGivenTheSameDataDerivesTheSameIncidentId()
    {
        // Restart without state: the id depends only on the first evidence, so the alert sink
        // can drop the second open by id.
        var a = Run(new IncidentCorrelator(Shop()), PaymentOutage(), T + (5 * 60_000));
        var b = Run(new IncidentCorrelator(Shop()), PaymentOutage(), T + (5 * 60_000));
        Assert.Equal(a[0].Incident.Id, b[0].Incident.Id);
        Assert.StartsWith("inc-", a[0].Incident.Id, StringComparison.Ordinal);
        Assert.Equal(20, a[0].Incident.Id.Length); // "inc-" + 16 hex digits
    }

    [Fact]
    public void TheIdDependsOnTheFirstEvidenceOnly()
    {
        var correlator = new IncidentCorrelator(Shop());
        var first = Make("payment", RedMetrics.LatencyP99, MetricKind.Latency, T + 5_000, 0.8);
        var sameMinute = first with { TimestampMs = T + 55_000, Score = 0.1 };
        var nextMinute = first with { TimestampMs = T + 65_000 };
        Assert.Equal(correlator.IncidentId(first), correlator.IncidentId(sameMinute));
        Assert.NotEqual(correlator.IncidentId(first), correlator.IncidentId(nextMinute));
        Assert.NotEqual(correlator.IncidentId(first), correlator.IncidentId(first with { Detector = DetectorKind.LevelShift }));
    }

    [Fact]
    public void UnconnectedAnomaliesAtTheSameTimeFormSeparateIncidents()
    {
        var correlator = new IncidentCorrelator(Shop());
        Anomaly[] anomalies =
        [
            Make("payment", RedMetrics.LatencyP99, MetricKind.Latency, T, 0.8),
            Make("index", RedMetrics.Errors, MetricKind.ErrorRate, T, 0.9),
        ];
        var events = Run(correlator, anomalies, T + (2 * 60_000));
        var opens = events.Where(e => e.Kind == IncidentEventKind.Open).ToList();
        Assert.Equal(2, opens.Count);
        Assert.NotEqual(opens[0].Incident.Id, opens[1].Incident.Id);
    }

    [Fact]
    public void AnomaliesMoreThanMaxHopsApartFormSeparateIncidents()
    {
        // frontend and db:postgresql are 3 hops apart; the default MaxHops is 2.
        var correlator = new IncidentCorrelator(Shop());
        Anomaly[] anomalies =
        [
            Make("frontend", RedMetrics.LatencyP99, MetricKind.Latency, T, 0.8),
            Make("payment", RedMetrics.LatencyP99, MetricKind.Latency, T, 0.8, labels: "callee=db:postgresql"),
        ];
        var events = Run(correlator, anomalies, T + (2 * 60_000));
        Assert.Equal(2, events.Count(e => e.Kind == IncidentEventKind.Open));
    }

    [Fact]
    public void AnomaliesFarApartInTimeFormSeparateIncidents()
    {
        var correlator = new IncidentCorrelator(Shop(), new CorrelatorOptions { QuietMs = 60 * 60_000 });
        Anomaly[] anomalies =
        [
            Make("payment", RedMetrics.LatencyP99, MetricKind.Latency, T, 0.8),
            Make("checkout", RedMetrics.LatencyP99, MetricKind.Latency, T + (11 * 60_000), 0.8), // > 10-min window
        ];
        var events = Run(correlator, anomalies, T + (13 * 60_000));
        Assert.Equal(2, events.Count(e => e.Kind == IncidentEventKind.Open));
    }

    [Fact]
    public void AnIncidentResolvesAfterItsSymptomsAreQuietForTheConfiguredTime()
    {
        var correlator = new IncidentCorrelator(Shop(), new CorrelatorOptions { QuietMs = 10 * 60_000 });
        foreach (var a in PaymentOutage())
        {
            correlator.Observe(a);
        }

        Assert.Single(correlator.AdvanceTo(T + 60_000)); // open
        // Last evidence at T + 120 s: still open 1 ms before T + 120 s + 10 min.
        Assert.DoesNotContain(correlator.AdvanceTo(T + 120_000 + 599_999), e => e.Kind == IncidentEventKind.Resolve);
        var resolve = Assert.Single(correlator.AdvanceTo(T + 120_000 + 600_000), e => e.Kind == IncidentEventKind.Resolve);
        Assert.Equal(IncidentState.Resolved, resolve.Incident.State);
        Assert.Equal(T + 720_000, resolve.Incident.ResolvedMs);
        Assert.Equal(0, correlator.OpenCount);
    }

    [Fact]
    public void AnomaliesWithoutExemplarsGetThemFromTheLookup()
    {
        var lookup = new Func<SeriesKey, long, IReadOnlyList<string>>((series, ts) =>
            series.Service == "payment" && ts == T ? ["000000000000000000000000000000ff"] : []);
        var correlator = new IncidentCorrelator(Shop(), null, lookup);
        correlator.Observe(Make("payment", RedMetrics.LatencyP99, MetricKind.Latency, T, 0.8));
        var open = Assert.Single(correlator.AdvanceTo(T + 60_000));
        Assert.Equal(["000000000000000000000000000000ff"], open.Incident.RootCauses[0].ExemplarTraceIds);
    }

    [Fact]
    public void RepeatedVerdictsOfOneSeriesBecomeOneSignalWithTheEarliestOnset()
    {
        var correlator = new IncidentCorrelator(Shop());
        correlator.Observe(Make("payment", RedMetrics.LatencyP99, MetricKind.Latency, T, 0.6, sinceMs: T - 60_000));
        correlator.Observe(Make("payment", RedMetrics.LatencyP99, MetricKind.Latency, T + 30_000, 0.9, observed: 800));
        var open = Assert.Single(correlator.AdvanceTo(T + 60_000));
        var signal = Assert.Single(open.Incident.Signals);
        Assert.Equal(T - 60_000, signal.SinceMs);
        Assert.Equal(T + 30_000, signal.LastSeenMs);
        Assert.Equal(0.9, signal.Score);
        Assert.Equal(800, signal.Observed);
    }

    [Fact]
    public void ABlipBelowTheEvidenceThresholdNeverOpens()
    {
        var correlator = new IncidentCorrelator(Shop(), new CorrelatorOptions { MinSignalsToOpen = 2, QuietMs = 5 * 60_000 });
        correlator.Observe(Make("payment", RedMetrics.LatencyP99, MetricKind.Latency, T, 0.8));
        Assert.Empty(correlator.AdvanceTo(T + 60_000));
        Assert.Empty(correlator.AdvanceTo(T + (6 * 60_000)));
        Assert.Equal(0, correlator.OpenCount);
    }
}
