using Aiops.Simulation;

namespace Aiops.Simulation.Tests;

public sealed class GroundTruthTests
{
    [Fact]
    public void GroundTruthRoundTripsThroughJson()
    {
        var start = ScenarioOptions.DefaultStartMs;
        var simulator = new ShopSimulator(new ScenarioOptions
        {
            Seed = 4,
            DurationMs = 3_600_000,
            Faults =
            [
                new FaultSpec("f2", FaultKind.EdgeLatency, "payment", start + 600_000, start + 1_200_000, Caller: "checkout"),
                new FaultSpec("f1", FaultKind.BadReplica, "cart", start + 60_000, start + 300_000, Instance: "cart-1"),
            ],
        });

        var truth = simulator.GroundTruth;
        var parsed = GroundTruth.FromJson(truth.ToJson());

        Assert.Equal(truth.Seed, parsed.Seed);
        Assert.Equal(truth.StartMs, parsed.StartMs);
        Assert.Equal(truth.EndMs, parsed.EndMs);
        Assert.Equal(2, parsed.Faults.Count);
        for (var i = 0; i < truth.Faults.Count; i++)
        {
            Assert.Equal(truth.Faults[i] with { Affected = [] }, parsed.Faults[i] with { Affected = [] });
            Assert.Equal(truth.Faults[i].Affected, parsed.Faults[i].Affected);
        }

        // Ordered by start: the bad replica (1 min in) before the edge delay (10 min in).
        Assert.Equal("f1", parsed.Faults[0].Id);
        Assert.Equal("cart-1", parsed.Faults[0].Instance);
        Assert.Equal("checkout", parsed.Faults[1].Caller);
    }

    [Fact]
    public void AffectedNodesAreTheRootAndItsTransitiveCallers()
    {
        var start = ScenarioOptions.DefaultStartMs;
        var truth = new ShopSimulator(new ScenarioOptions
        {
            DurationMs = 600_000,
            Faults = [new FaultSpec("f1", FaultKind.SlowDatabase, "db:postgresql", start, start + 60_000)],
        }).GroundTruth;

        // From ShopTopology's call trees: the database (graph node db:postgresql) is called by
        // product-catalog, cart and accounting; those by frontend, recommendation and checkout.
        // Accounting is behind the queue, so it moves nobody upstream.
        Assert.Equal(
            ["accounting", "cart", "checkout", "db:postgresql", "frontend", "product-catalog", "recommendation"],
            truth.Faults[0].Affected);
    }

    [Theory]
    [InlineData("{\"seed\":1,\"startMs\":0,\"endMs\":10,\"faults\":[{\"id\":\"a\",\"kind\":\"meteor_strike\",\"rootCause\":\"x\",\"startMs\":0,\"endMs\":5}]}", "meteor_strike")]
    [InlineData("{\"seed\":1,\"startMs\":0,\"endMs\":10,\"faults\":[{\"id\":\"a\",\"kind\":\"slow_database\",\"rootCause\":\"postgres\",\"startMs\":5,\"endMs\":5}]}", "ends")]
    [InlineData("{\"seed\":", "not valid")]
    public void BadGroundTruthIsRejectedWithTheReason(string json, string expectedInMessage)
    {
        var error = Assert.Throws<InvalidDataException>(() => GroundTruth.FromJson(json));

        Assert.Contains(expectedInMessage, error.Message, StringComparison.Ordinal);
    }
}
