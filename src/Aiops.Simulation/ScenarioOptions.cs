namespace Aiops.Simulation;

/// <summary>What to simulate: the window, the traffic level, the seed and the faults.</summary>
public sealed class ScenarioOptions
{
    /// <summary>Monday 2026-01-05 00:00 UTC: a fixed, documented origin so datasets are reproducible.</summary>
    public const long DefaultStartMs = 1_767_571_200_000;

    /// <summary>Seed of every random draw; same seed and options, same records.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>First simulated instant, Unix ms (aligned down to the minute).</summary>
    public long StartMs { get; set; } = DefaultStartMs;

    /// <summary>Length of the simulated window, ms.</summary>
    public long DurationMs { get; set; } = 6 * 3_600_000L;

    /// <summary>
    /// Sampled traces per minute at the daily peak. 40 gives ≈ 500 spans per simulated minute and
    /// ≥ 20 requests per minute on every service at the trough (0.55 × peak), so the evaluation of
    /// 50 cases stays in minutes.
    /// </summary>
    public double TracesPerMinute { get; set; } = 60;

    /// <summary>The faults to inject.</summary>
    public IReadOnlyList<FaultSpec> Faults { get; set; } = [];

    /// <summary>End of the simulated window (exclusive), Unix ms.</summary>
    public long EndMs => StartMs + DurationMs;

    /// <summary>Throws when a setting is out of range or a fault names an unknown node, naming it.</summary>
    public void Validate()
    {
        if (DurationMs <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(DurationMs), DurationMs, "DurationMs must be positive.");
        }

        if (!(TracesPerMinute > 0) || TracesPerMinute > 100_000)
        {
            throw new ArgumentOutOfRangeException(nameof(TracesPerMinute), TracesPerMinute, "TracesPerMinute must be in (0, 100000].");
        }

        foreach (var fault in Faults)
        {
            if (fault.EndMs <= fault.StartMs)
            {
                throw new ArgumentException($"Fault '{fault.Id}' ends before it starts.", nameof(Faults));
            }

            var isDatabase = string.Equals(fault.Target, ShopTopology.DatabaseNode, StringComparison.Ordinal);
            if (fault.Kind == FaultKind.SlowDatabase ? !isDatabase : ShopTopology.Find(fault.Target) is null)
            {
                throw new ArgumentException($"Fault '{fault.Id}' ({FaultKinds.Name(fault.Kind)}) targets unknown node '{fault.Target}'.", nameof(Faults));
            }

            if (fault.Kind == FaultKind.EdgeLatency && (fault.Caller is null || ShopTopology.Find(fault.Caller) is null))
            {
                throw new ArgumentException($"Fault '{fault.Id}' (edge_latency) needs a known Caller service.", nameof(Faults));
            }

            if (fault.Kind == FaultKind.BadReplica
                && (fault.Instance is null || Array.IndexOf(ShopTopology.Find(fault.Target)!.Instances, fault.Instance) < 0))
            {
                throw new ArgumentException($"Fault '{fault.Id}' (bad_replica) needs an Instance of '{fault.Target}'.", nameof(Faults));
            }
        }
    }
}
