using Aiops.Core;
using static Aiops.Topology.Tests.Anomalies;

namespace Aiops.Topology.Tests;

public class RemediationAdvisorTests
{
    private const long T = 1_700_000_000_000;

    private static ServiceGraph CartWithReplicas()
    {
        var g = new ServiceGraph();
        var cart = g.AddNode("cart", T);
        cart.TouchInstance("cart-1", "1.4.1", T);
        cart.TouchInstance("cart-2", "1.4.1", T);
        cart.TouchInstance("cart-3", "1.4.1", T);
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
        var (kind, hint) = RemediationAdvisor.Advise("cart", [Signal("cart", MetricKind.Latency, 0.9, T, labels: "instance=cart-2")], CartWithReplicas());
        Assert.Equal(RemediationKind.ShiftTrafficOrRestart, kind);
        Assert.Contains("cart-2", hint, StringComparison.Ordinal);
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
