namespace Aiops.Simulation;

/// <summary>The kinds of fault the simulator injects, each with a known root-cause node.</summary>
public enum FaultKind : byte
{
    /// <summary>Every replica of a service runs near 100% CPU; its own work slows down by queueing.</summary>
    CpuSaturation = 0,

    /// <summary>Every replica's memory climbs steadily; garbage-collection pauses slow it late in the fault.</summary>
    MemoryLeak = 1,

    /// <summary>Network delay on the calls one caller makes to one callee (root cause: the callee's inbound network).</summary>
    EdgeLatency = 2,

    /// <summary>A service fails a share of its requests, optionally right after a version change.</summary>
    ErrorBurst = 3,

    /// <summary>Packets to a service are lost: callers time out and retry, some calls fail after the last retry.</summary>
    PacketLossRetries = 4,

    /// <summary>The (uninstrumented) database answers slowly to every client.</summary>
    SlowDatabase = 5,

    /// <summary>One replica of a service is slow and fails some requests while its peers are healthy.</summary>
    BadReplica = 6,
}

/// <summary>Stable snake_case names for <see cref="FaultKind"/>, as written in <c>ground_truth.json</c>.</summary>
public static class FaultKinds
{
    /// <summary>All fault kinds, in declaration order.</summary>
    public static IReadOnlyList<FaultKind> All { get; } = Enum.GetValues<FaultKind>();

    /// <summary>The snake_case name of a kind.</summary>
    public static string Name(FaultKind kind) => kind switch
    {
        FaultKind.CpuSaturation => "cpu_saturation",
        FaultKind.MemoryLeak => "memory_leak",
        FaultKind.EdgeLatency => "edge_latency",
        FaultKind.ErrorBurst => "error_burst",
        FaultKind.PacketLossRetries => "packet_loss_retries",
        FaultKind.SlowDatabase => "slow_database",
        FaultKind.BadReplica => "bad_replica",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown fault kind."),
    };

    /// <summary>Parses a snake_case name; throws <see cref="FormatException"/> naming the bad value.</summary>
    public static FaultKind Parse(string name)
    {
        foreach (var kind in All)
        {
            if (string.Equals(Name(kind), name, StringComparison.Ordinal))
            {
                return kind;
            }
        }

        throw new FormatException($"Unknown fault kind '{name}'; expected one of {string.Join(", ", All.Select(Name))}.");
    }
}
