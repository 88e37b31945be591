using Aiops.Simulation;

namespace Aiops.Simulation.Tests;

public sealed class FaultSuiteTests
{
    [Fact]
    public void TheStandardSuiteCyclesThroughEveryFaultKindWithValidScenarios()
    {
        var suite = FaultSuite.Standard(seed: 1, cases: 56);

        // 56 cases over 7 kinds, assigned round-robin: 8 each.
        Assert.Equal(56, suite.Count);
        foreach (var kind in FaultKinds.All)
        {
            Assert.Equal(8, suite.Count(c => c.Kind == kind));
        }

        foreach (var c in suite)
        {
            c.Scenario.Validate();
            var fault = Assert.Single(c.Scenario.Faults);
            Assert.Equal(c.Scenario.StartMs + new SuiteOptions().WarmUpMs, fault.StartMs);
        }
    }

    [Fact]
    public void TheSameSeedBuildsTheSameSuiteAndAnotherSeedAnother()
    {
        static string Describe(IEnumerable<SuiteCase> suite) =>
            string.Join(";", suite.Select(c => $"{c.Name}@{c.Scenario.StartMs}/{c.Scenario.Seed}"));

        Assert.Equal(Describe(FaultSuite.Standard(3, 14)), Describe(FaultSuite.Standard(3, 14)));
        Assert.NotEqual(Describe(FaultSuite.Standard(3, 14)), Describe(FaultSuite.Standard(4, 14)));
    }
}
