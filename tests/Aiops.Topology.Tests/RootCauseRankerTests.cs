using Aiops.Core;
using static Aiops.Topology.Tests.Anomalies;

namespace Aiops.Topology.Tests;

public class RootCauseRankerTests
{
    private const long T = 1_700_000_000_000;

    // frontend → checkout → payment → db:postgresql, checkout → cart → redis-less cart store.
    private static ServiceGraph Shop()
    {
        var g = new ServiceGraph();
        g.AddEdge("frontend", "checkout", T);
        g.AddEdge("frontend", "catalog", T);
        g.AddEdge("checkout", "payment", T);
        g.AddEdge("checkout", "cart", T);
        g.AddEdge("payment", "db:postgresql", T);
        return g;
    }

    [Fact]
    public void TheLoudestAnomalyUpstreamIsRankedAsAVictimNotTheCause()
    {
        // payment started first and is the quietest; frontend is loudest but started last.
        IncidentSignal[] signals =
        [
            Signal("frontend", MetricKind.Latency, 0.99, T + 120_000),
            Signal("checkout", MetricKind.Latency, 0.97, T + 60_000),
            Signal("payment", MetricKind.Latency, 0.80, T),
        ];

        var ranked = RootCauseRanker.Rank(signals, Shop());

        Assert.Equal("payment", ranked[0].Node);
        Assert.Equal(["frontend", "checkout", "payment"], ranked[0].Path);
        Assert.Equal(1, ranked[0].Rank);
        Assert.True(ranked[0].Score > ranked[1].Score);
        Assert.Equal(3, ranked.Count);
    }

    [Fact]
    public void BlameMovesDownToAnAnomalousCalleeEvenWhenAllStartTogether()
    {
        // Same onset everywhere (the detectors fired on one bucket): only the call structure and
        // the walk can tell; the answer is the lowest anomalous node, the database.
        IncidentSignal[] signals =
        [
            Signal("frontend", MetricKind.Latency, 0.99, T),
            Signal("checkout", MetricKind.Latency, 0.95, T),
            Signal("payment", MetricKind.Latency, 0.90, T),
            Signal("db:postgresql", MetricKind.Latency, 0.70, T, labels: "callee=db:postgresql"),
        ];

        var ranked = RootCauseRanker.Rank(signals, Shop(), null, out string symptom);

        Assert.Equal("db:postgresql", ranked[0].Node);
        Assert.True(ranked[0].IsVirtual);
        Assert.Equal("frontend", symptom);
        Assert.Equal(["frontend", "checkout", "payment", "db:postgresql"], ranked[0].Path);
        Assert.Equal("frontend", ranked[^1].Node);
    }

    private static IncidentSignal[] ErrorsPassedOnFromPaymentToCheckout(bool checkoutWitnessedPayment)
    {
        // payment fails; checkout passes the failures on and its verdicts score higher (its error
        // ratio moved more, and its caller's edge series to it fired too). All start together.
        var signals = new List<IncidentSignal>
        {
            Signal("checkout", MetricKind.ErrorRate, 0.9, T, metric: "errors.ratio"),
            Signal("checkout", MetricKind.ErrorRate, 0.9, T, metric: "errors.ratio", detector: DetectorKind.LevelShift),
            Signal("checkout", MetricKind.ErrorRate, 0.9, T, metric: "errors.ratio", labels: "callee=checkout") with { Service = "frontend" },
            Signal("payment", MetricKind.ErrorRate, 0.3, T, metric: "errors.ratio"),
        };
        if (checkoutWitnessedPayment)
        {
            signals.Add(Signal("payment", MetricKind.ErrorRate, 0.3, T, metric: "errors.ratio", labels: "callee=payment") with { Service = "checkout" });
        }

        return [.. signals];
    }

    [Fact]
    public void ACallerWhoseOwnEdgeSeriesToACalleeFiredIsExplainedByThatCallee()
    {
        var ranked = RootCauseRanker.Rank(ErrorsPassedOnFromPaymentToCheckout(checkoutWitnessedPayment: true), Shop());

        Assert.Equal("payment", ranked[0].Node);
        // checkout: ½·(1 − 1) for the witnessed callee + ½·(0 of its 1 caller anomalous: frontend has no signal of its own).
        Assert.Equal(0.0, ranked[1].ScoreParts["explanation"], 6);
    }

    [Fact]
    public void WithoutTheWitnessTheLouderCallerStaysOnTop()
    {
        // The control of the test above: same signals without checkout's edge series to payment.
        var ranked = RootCauseRanker.Rank(ErrorsPassedOnFromPaymentToCheckout(checkoutWitnessedPayment: false), Shop());

        Assert.Equal("checkout", ranked[0].Node);
    }

    [Fact]
    public void ACalleeThatOnlyLostTrafficDoesNotTakeTheBlameFromItsSaturatedCaller()
    {
        // checkout is CPU-bound; payment, below it, only sees fewer calls (an effect).
        IncidentSignal[] signals =
        [
            Signal("frontend", MetricKind.Latency, 0.95, T + 60_000),
            Signal("checkout", MetricKind.Latency, 0.90, T),
            Signal("checkout", MetricKind.Saturation, 0.85, T, metric: "cpu.utilization", observed: 0.97),
            Signal("payment", MetricKind.Throughput, 0.90, T, metric: "requests.rate", direction: Direction.Down),
        ];

        var ranked = RootCauseRanker.Rank(signals, Shop());

        Assert.Equal("checkout", ranked[0].Node);
        Assert.Equal(RemediationKind.ScaleOut, ranked[0].Remediation);
    }

    [Fact]
    public void AnUnrelatedNoisyServiceDoesNotOutrankTheCauseOfTheChain()
    {
        // catalog is a sibling with a strong anomaly that started 3 min after frontend's errors
        // (beyond the 60-s onset slack), so it cannot explain them.
        IncidentSignal[] signals =
        [
            Signal("frontend", MetricKind.ErrorRate, 0.99, T + 60_000, metric: "errors.ratio"),
            Signal("checkout", MetricKind.ErrorRate, 0.95, T + 60_000, metric: "errors.ratio"),
            Signal("payment", MetricKind.ErrorRate, 0.85, T, metric: "errors.ratio"),
            Signal("catalog", MetricKind.Latency, 0.98, T + 240_000),
        ];

        var ranked = RootCauseRanker.Rank(signals, Shop());

        Assert.Equal("payment", ranked[0].Node);
        Assert.Equal("checkout", ranked[1].Node);
    }

    [Fact]
    public void EveryCandidateCarriesItsEvidence()
    {
        IncidentSignal[] signals =
        [
            Signal("checkout", MetricKind.Latency, 0.9, T + 60_000),
            Signal("payment", MetricKind.Latency, 0.8, T) with { ExemplarTraceIds = ["00000000000000000000000000000abc"] },
        ];

        var top = RootCauseRanker.Rank(signals, Shop())[0];

        Assert.Equal("payment", top.Node);
        Assert.Equal(T, top.SinceMs);
        Assert.Equal(["00000000000000000000000000000abc"], top.ExemplarTraceIds);
        Assert.Single(top.Signals);
        Assert.Equal(["checkout", "payment"], top.Path);
        Assert.Equal(["explanation", "onset", "severity", "walk"], top.ScoreParts.Keys.ToArray());
        Assert.False(string.IsNullOrEmpty(top.RemediationHint));
    }

    [Fact]
    public void TheRankingIsTheSameWhateverTheOrderOfTheSignals()
    {
        IncidentSignal[] signals =
        [
            Signal("frontend", MetricKind.Latency, 0.9, T),
            Signal("checkout", MetricKind.Latency, 0.9, T),
            Signal("cart", MetricKind.Latency, 0.9, T),
            Signal("payment", MetricKind.Latency, 0.9, T),
        ];

        var forward = RootCauseRanker.Rank(signals, Shop()).Select(c => (c.Node, c.Score)).ToList();
        var backward = RootCauseRanker.Rank(signals.Reverse().ToArray(), Shop()).Select(c => (c.Node, c.Score)).ToList();
        Assert.Equal(forward, backward);
    }

    [Fact]
    public void OnALargeLayeredGraphTheDeepestOnsetIsFoundUnderLouderCallers()
    {
        // 10 layers × 100 services, each calling 3 of the next layer (seeded); the fault is at
        // svc-9-042 and spreads to 49 transitive callers, each 30 s later per hop and 0.03 louder
        // per hop — the benchmark's scenario, where severity alone would pick a far caller.
        var random = new Random(3);
        var g = new ServiceGraph();
        for (int layer = 0; layer < 9; layer++)
        {
            for (int i = 0; i < 100; i++)
            {
                for (int k = 0; k < 3; k++)
                {
                    g.AddEdge($"svc-{layer}-{i:D3}", $"svc-{layer + 1}-{random.Next(100):D3}", T);
                }
            }
        }

        var anomalous = new List<(string Node, int Depth)> { ("svc-9-042", 0) };
        var seen = new HashSet<string> { "svc-9-042" };
        for (int head = 0; head < anomalous.Count && anomalous.Count < 50; head++)
        {
            foreach (string caller in g.Callers(anomalous[head].Node))
            {
                if (anomalous.Count < 50 && seen.Add(caller))
                {
                    anomalous.Add((caller, anomalous[head].Depth + 1));
                }
            }
        }

        var signals = anomalous.Select(a => Signal(a.Node, MetricKind.Latency, Math.Min(0.99, 0.7 + (0.03 * a.Depth)), T + (a.Depth * 30_000))).ToList();
        var ranked = RootCauseRanker.Rank(signals, g);
        Assert.Equal("svc-9-042", ranked[0].Node);
    }

    [Fact]
    public void ThePersonalisedWalkConcentratesOnTheNodeWhereTheChainEnds()
    {
        // Chain a → b → c with equal severity: forward weights push mass to c and c's self-loop
        // (s(c) − 0) keeps it there; a has no self-loop (s(a) − s(b) = 0), so c > b > a.
        double[] severity = [0.9, 0.9, 0.9];
        List<int>[] callees = [[1], [2], []];
        List<int>[] callers = [[], [0], [1]];
        double[] walk = RootCauseRanker.PersonalisedWalk(severity, callees, callers, new RcaOptions());
        Assert.Equal(1.0, walk[2]);
        Assert.True(walk[2] > walk[1] && walk[1] > walk[0]);
    }

    [Fact]
    public void ANodeThatWitnessedItsCalleeGetsNoSelfLoopSoTheWalkMovesToTheCallee()
    {
        // frontend (0.6) → recommendation (0.05): frontend's self-loop s − max s(c) = 0.55 keeps
        // the walk there; once frontend's edge series to recommendation fired, it gets none.
        double[] severity = [0.6, 0.05];
        List<int>[] callees = [[1], []];
        List<int>[] callers = [[], [0]];

        double[] plain = RootCauseRanker.PersonalisedWalk(severity, callees, callers, new RcaOptions());
        double[] witnessed = RootCauseRanker.PersonalisedWalk(severity, callees, callers, new RcaOptions(), [true, false]);

        Assert.Equal(1.0, plain[0]);
        Assert.Equal(1.0, witnessed[1]);
    }
}
