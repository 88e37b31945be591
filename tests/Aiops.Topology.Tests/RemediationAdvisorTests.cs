using Aiops.Core;
using static Aiops.Topology.Tests.Anomalies;

namespace Aiops.Topology.Tests;

public class RemediationAdvisorTests
{
    private const long T = 1_700_000_000_000;

    /// <summary>Three cart replicas; cart-2's latest RED bucket has median <paramref name="cart2P50"/> ms, its peers 5 and 6 ms.</summary>
    private static ServiceGraph CartWithReplicas(double cart2P50 = 30)
    {
        var g = new ServiceGraph();
        var cart = g.AddNode("cart", T);
        foreach (var (name, p50) in new[] { ("cart-1", 5.0), ("cart-2", cart2P50), ("cart-3", 6.0) })
        {
            var replica = cart.TouchInstance(name, "1.4.1", T);
            replica.LatencyP50Ms = p50;
            replica.ErrorRatio = 0;
            replica.RedBucketMs = T;
        }

        return g;
    }

    [Fact]
    public void AnErrorBurstRightAfterAVersionChangeSuggestsARollback()
    {
        var g = CartWithReplicas();
        g.TryGetNode("cart", out var cart);
        cart.TouchInstance("cart-1", "1.5.0", T + 600_000);
        var (kind, hint) = RemediationAdvisor.Advise("cart", [Signal("cart", MetricKind.ErrorRate, 0.9, T + 720_000, metric: "errors.ratio")], g);
        Assert.Equal(RemediationKind.Rollback, kind);
        Assert.Contains("1.5.0", hint, StringComparison.Ordinal);
        Assert.Contains("1.4.1", hint, StringComparison.Ordinal);
    }

    [Fact]
    public void ErrorsLongAfterAVersionChangeDoNotBlameTheDeploy()
    {
        // 2 h after the change, beyond the 15-min window; the errors sit on all replicas.
        var g = CartWithReplicas();
        g.TryGetNode("cart", out var cart);
        cart.TouchInstance("cart-1", "1.5.0", T);
        var (kind, _) = RemediationAdvisor.Advise("cart", [Signal("cart", MetricKind.ErrorRate, 0.9, T + 7_200_000, metric: "errors.ratio")], g);
        Assert.Equal(RemediationKind.Investigate, kind);
    }

    [Fact]
    public void OneDeviatingReplicaSuggestsShiftingTrafficAwayFromIt()
    {
        // Latency and errors of cart-2 only: two metrics corroborate the replica.
        var (kind, hint) = RemediationAdvisor.Advise("cart",
            [
                Signal("cart", MetricKind.Latency, 0.9, T, labels: "instance=cart-2"),
                Signal("cart", MetricKind.ErrorRate, 0.9, T, metric: "errors.ratio", labels: "instance=cart-2"),
            ],
            CartWithReplicas());
        Assert.Equal(RemediationKind.ShiftTrafficOrRestart, kind);
        Assert.Contains("cart-2", hint, StringComparison.Ordinal);

        // The evidence in the hint: cart-2's 30 ms against the median of its peers' 5 and 6 ms.
        Assert.Contains("30 ms against 5.5 ms", hint, StringComparison.Ordinal);
    }

    [Fact]
    public void SignalsOnOneReplicaWhoseValuesMatchItsPeersDoNotBlameThatReplica()
    {
        // cart-2 fired twice, but its latest median (6.5 ms) is within ×2 of its peers' (5.5 ms):
        // the others may just have had no verdict (e.g. under a request floor).
        var (kind, _) = RemediationAdvisor.Advise("cart",
            [
                Signal("cart", MetricKind.Latency, 0.9, T, labels: "instance=cart-2"),
                Signal("cart", MetricKind.ErrorRate, 0.9, T, metric: "errors.ratio", labels: "instance=cart-2"),
            ],
            CartWithReplicas(cart2P50: 6.5));
        Assert.NotEqual(RemediationKind.ShiftTrafficOrRestart, kind);
    }

    [Fact]
    public void ASingleStrayVerdictOnOneReplicaIsNotEnoughToBlameIt()
    {
        var single = Signal("cart", MetricKind.ErrorRate, 0.9, T, metric: "errors.ratio", labels: "instance=cart-2");
        Assert.Equal(RemediationKind.Investigate, RemediationAdvisor.Advise("cart", [single], CartWithReplicas()).Kind);
        // The same signal firing three times is corroborated.
        Assert.Equal(RemediationKind.ShiftTrafficOrRestart, RemediationAdvisor.Advise("cart", [single with { Verdicts = 3 }], CartWithReplicas()).Kind);
    }

    [Fact]
    public void AResourceAtItsLimitSuggestsScalingOut()
    {
        // 97% CPU (given as a percentage) is above the 90% high-water mark.
        var (kind, hint) = RemediationAdvisor.Advise("cart",
            [Signal("cart", MetricKind.Saturation, 0.9, T, metric: "cpu.utilization", observed: 97), Signal("cart", MetricKind.Latency, 0.9, T)],
            CartWithReplicas());
        Assert.Equal(RemediationKind.ScaleOut, kind);
        Assert.Contains("97", hint, StringComparison.Ordinal);
    }

    [Fact]
    public void CpuBoundSlownessWithoutExtraLoadSuggestsAProfile()
    {
        // CPU up to 60% (below the limit), latency up, no throughput rise: each request costs more.
        var (kind, _) = RemediationAdvisor.Advise("cart",
            [Signal("cart", MetricKind.Saturation, 0.8, T, metric: "cpu.utilization", observed: 0.6), Signal("cart", MetricKind.Latency, 0.9, T)],
            CartWithReplicas());
        Assert.Equal(RemediationKind.CaptureProfile, kind);
    }

    [Fact]
    public void CpuRisingWithLoadSuggestsScalingOutNotAProfile()
    {
        var (kind, _) = RemediationAdvisor.Advise("cart",
            [
                Signal("cart", MetricKind.Saturation, 0.8, T, metric: "cpu.utilization", observed: 0.6),
                Signal("cart", MetricKind.Latency, 0.9, T),
                Signal("cart", MetricKind.Throughput, 0.9, T, metric: "requests.rate"),
            ],
            CartWithReplicas());
        Assert.Equal(RemediationKind.ScaleOut, kind);
    }

    [Fact]
    public void PlainSlownessWithoutResourceEvidenceAsksForInvestigation()
    {
        var (kind, _) = RemediationAdvisor.Advise("cart", [Signal("cart", MetricKind.Latency, 0.9, T)], CartWithReplicas());
        Assert.Equal(RemediationKind.Investigate, kind);
    }
}
