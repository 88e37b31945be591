namespace Aiops.Simulation;

/// <summary>One case of a suite: a named scenario with at most one fault.</summary>
/// <param name="Name">Case name (e.g. <c>07-slow_database-postgres</c>).</param>
/// <param name="Kind">The injected fault kind; null for a fault-free run.</param>
/// <param name="Scenario">The scenario to simulate.</param>
public sealed record SuiteCase(string Name, FaultKind? Kind, ScenarioOptions Scenario);

/// <summary>Shape of the standard suite's cases.</summary>
public sealed class SuiteOptions
{
    /// <summary>
    /// Fault-free time before the fault, so baselines are learnt. 6 h = 360 one-minute points per
    /// series, several refits of a detector's seasonal model; a fault in the warm-up would be
    /// judged against an unlearnt baseline.
    /// </summary>
    public long WarmUpMs { get; set; } = 6 * 3_600_000L;

    /// <summary>How long each fault lasts: 30 min, long enough for a slow leak to show.</summary>
    public long FaultMs { get; set; } = 30 * 60_000L;

    /// <summary>Fault-free time after the fault, in which the incident should resolve.</summary>
    public long RecoveryMs { get; set; } = 20 * 60_000L;

    /// <summary>Sampled traces per minute at the daily peak (see <see cref="ScenarioOptions.TracesPerMinute"/>).</summary>
    public double TracesPerMinute { get; set; } = 60;
}

/// <summary>
/// The simulator's standard RCA suite: cases cycle through every fault kind and draw the target,
/// the start (day of week and hour, so faults meet different traffic levels) and the intensity
/// from a seeded generator, so a seed fixes the whole suite.
/// </summary>
public static class FaultSuite
{
    /// <summary>Services that have callers (packet loss and edge delays need a calling side).</summary>
    private static readonly string[] Callees = ["checkout", "cart", "payment", "shipping", "currency", "recommendation", "product-catalog", "email", "ad"];

    /// <summary>Builds <paramref name="cases"/> fault cases from <paramref name="seed"/>.</summary>
    public static IReadOnlyList<SuiteCase> Standard(int seed, int cases, SuiteOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cases);
        options ??= new SuiteOptions();
        var random = new Random(seed);
        var kinds = FaultKinds.All;
        var services = ShopSimulator.ServiceNames;
        var edges = ShopTopology.Edges()
            .Where(e => ShopTopology.Find(e.Caller) is not null && ShopTopology.Find(e.Callee) is not null)
            .ToArray();
        var result = new List<SuiteCase>(cases);
        for (var i = 0; i < cases; i++)
        {
            var kind = kinds[i % kinds.Count];

            // Start on any day of the first week, at any whole minute of the day.
            var startMs = ScenarioOptions.DefaultStartMs + (random.Next(7) * 86_400_000L) + (random.Next(24 * 60) * 60_000L);
            var faultStart = startMs + options.WarmUpMs;
            var faultEnd = faultStart + options.FaultMs;
            var intensity = 0.8 + (0.4 * random.NextDouble());
            var id = $"f{i + 1}";
            FaultSpec fault;
            switch (kind)
            {
                case FaultKind.EdgeLatency:
                    var (caller, callee) = edges[random.Next(edges.Length)];
                    fault = new FaultSpec(id, kind, callee, faultStart, faultEnd, Caller: caller, Intensity: intensity);
                    break;
                case FaultKind.PacketLossRetries:
                    fault = new FaultSpec(id, kind, Callees[random.Next(Callees.Length)], faultStart, faultEnd, Intensity: intensity);
                    break;
                case FaultKind.SlowDatabase:
                    fault = new FaultSpec(id, kind, ShopTopology.DatabaseNode, faultStart, faultEnd, Intensity: intensity);
                    break;
                case FaultKind.BadReplica:
                    var service = ShopTopology.Find(services[random.Next(services.Count)])!;
                    fault = new FaultSpec(id, kind, service.Name, faultStart, faultEnd, Instance: service.Instances[random.Next(service.Replicas)], Intensity: intensity);
                    break;
                case FaultKind.ErrorBurst:
                    var target = ShopTopology.Find(services[random.Next(services.Count)])!;
                    var release = random.Next(2) == 0 ? null : NextVersion(target.Version);
                    fault = new FaultSpec(id, kind, target.Name, faultStart, faultEnd, NewVersion: release, Intensity: intensity);
                    break;
                default:
                    fault = new FaultSpec(id, kind, services[random.Next(services.Count)], faultStart, faultEnd, Intensity: intensity);
                    break;
            }

            var scenario = new ScenarioOptions
            {
                Seed = random.Next(),
                StartMs = startMs,
                DurationMs = options.WarmUpMs + options.FaultMs + options.RecoveryMs,
                TracesPerMinute = options.TracesPerMinute,
                Faults = [fault],
            };
            result.Add(new SuiteCase($"{i + 1:D2}-{FaultKinds.Name(kind)}-{fault.Target}", kind, scenario));
        }

        return result;
    }

    /// <summary>A fault-free run of <paramref name="days"/> simulated days from the default start (a Monday).</summary>
    public static SuiteCase FaultFree(int seed, double days, double tracesPerMinute = 60) => new(
        $"fault-free-{days:0.#}d",
        null,
        new ScenarioOptions
        {
            Seed = seed,
            DurationMs = (long)(days * 86_400_000),
            TracesPerMinute = tracesPerMinute,
        });

    private static string NextVersion(string version)
    {
        var parts = version.Split('.');
        return parts.Length == 3 && int.TryParse(parts[1], out var minor) ? $"{parts[0]}.{minor + 1}.0" : version + "-next";
    }
}
