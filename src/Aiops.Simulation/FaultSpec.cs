namespace Aiops.Simulation;

/// <summary>
/// One fault to inject: what, where and when (event time, Unix ms, end exclusive).
/// </summary>
/// <param name="Id">Identifier written to the ground truth (e.g. <c>f1</c>).</param>
/// <param name="Kind">The fault kind.</param>
/// <param name="Target">
/// The root-cause node: a service name, or <c>db:postgresql</c> (the database's graph node) for <see cref="FaultKind.SlowDatabase"/>.
/// For <see cref="FaultKind.EdgeLatency"/> the callee of the delayed edge.
/// </param>
/// <param name="StartMs">Fault start, Unix ms.</param>
/// <param name="EndMs">Fault end (exclusive), Unix ms.</param>
/// <param name="Caller">For <see cref="FaultKind.EdgeLatency"/>: the caller of the delayed edge.</param>
/// <param name="Instance">For <see cref="FaultKind.BadReplica"/>: the replica (e.g. <c>cart-2</c>).</param>
/// <param name="NewVersion">For <see cref="FaultKind.ErrorBurst"/>: the version deployed at fault start, if any.</param>
/// <param name="Intensity">Scales the fault's effect; 1 is the calibrated default.</param>
public sealed record FaultSpec(
    string Id,
    FaultKind Kind,
    string Target,
    long StartMs,
    long EndMs,
    string? Caller = null,
    string? Instance = null,
    string? NewVersion = null,
    double Intensity = 1.0)
{
    /// <summary>Whether the fault is active at <paramref name="timeMs"/>.</summary>
    public bool IsActive(long timeMs) => timeMs >= StartMs && timeMs < EndMs;

    /// <summary>Fraction of the fault's duration elapsed at <paramref name="timeMs"/>, clamped to [0, 1].</summary>
    public double Progress(long timeMs) =>
        EndMs <= StartMs ? 1.0 : Math.Clamp((timeMs - StartMs) / (double)(EndMs - StartMs), 0.0, 1.0);
}
