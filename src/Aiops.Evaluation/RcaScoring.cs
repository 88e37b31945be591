using Aiops.Pipeline;
using Aiops.Simulation;

namespace Aiops.Evaluation;

/// <summary>How one fault case was judged.</summary>
/// <param name="Case">Case name.</param>
/// <param name="Kind">Fault kind (snake_case).</param>
/// <param name="RootCause">The injected root-cause node.</param>
/// <param name="Rank">1-based rank of the root cause in the scored incident's final ranking; 0 when absent or no incident.</param>
/// <param name="TimeToFirstIncidentMs">From fault start to the first incident event in the fault window; null when none.</param>
/// <param name="IncidentId">The scored incident; null when none.</param>
/// <param name="TopCandidates">The scored incident's top five candidate nodes, most likely first.</param>
/// <param name="FalseIncidents">Incidents opened outside every fault window (warm-up or recovery).</param>
public sealed record RcaCaseResult(
    string Case,
    string Kind,
    string RootCause,
    int Rank,
    long? TimeToFirstIncidentMs,
    string? IncidentId,
    IReadOnlyList<string> TopCandidates,
    int FalseIncidents)
{
    /// <summary>1 when the root cause is among the top <paramref name="k"/> candidates (AC@k of one case).</summary>
    public double AccuracyAt(int k) => Rank >= 1 && Rank <= k ? 1.0 : 0.0;

    /// <summary>Avg@5 of one case: the mean of AC@1 … AC@5.</summary>
    public double Average5 => (AccuracyAt(1) + AccuracyAt(2) + AccuracyAt(3) + AccuracyAt(4) + AccuracyAt(5)) / 5.0;
}

/// <summary>Aggregate figures over a set of cases (one fault kind, or all).</summary>
/// <param name="Label">Fault kind or <c>all</c>.</param>
/// <param name="Cases">Number of cases.</param>
/// <param name="Detected">Cases with an incident in the fault window.</param>
/// <param name="Ac1">AC@1: share of cases whose top candidate is the root cause.</param>
/// <param name="Ac3">AC@3.</param>
/// <param name="Avg5">Avg@5 = mean of AC@1..AC@5.</param>
/// <param name="MedianTimeToFirstIncidentMs">Median over detected cases; null when none detected.</param>
/// <param name="FalseIncidents">Incidents opened outside fault windows, summed.</param>
public sealed record RcaSummary(string Label, int Cases, int Detected, double Ac1, double Ac3, double Avg5, long? MedianTimeToFirstIncidentMs, int FalseIncidents);

/// <summary>
/// RCA scoring as in the RCA literature (MicroRCA, Wu et al. 2020; RCD, Ikram et al. 2022):
/// AC@k = share of faults whose root cause is among the top k candidates,
/// Avg@5 = (1/5) Σ_{k=1..5} AC@k. A fault with no incident counts as a miss at every k.
/// </summary>
public static class RcaScoring
{
    /// <summary>
    /// Grace after a fault's end in which its incident may still open, ms. 5 min: a detector
    /// confirming a slow change on one-minute buckets needs a few points, and an incident opened
    /// after the fault already ended still names the right cause for the on-call engineer.
    /// </summary>
    public const long GraceMs = 5 * 60_000L;

    /// <summary>
    /// Judges one case: the scored incident is the first one with an event (open or update) inside
    /// [fault start, fault end + grace]; its final ranking (last event) is searched for the root
    /// cause. For a bad replica, a candidate naming the replica counts as naming its service.
    /// </summary>
    public static RcaCaseResult Score(string caseName, GroundTruthFault fault, IReadOnlyList<IncidentEvent> events)
    {
        ArgumentNullException.ThrowIfNull(fault);
        ArgumentNullException.ThrowIfNull(events);
        var windowEnd = fault.EndMs + GraceMs;
        string? scored = null;
        long? firstMs = null;
        foreach (var e in events)
        {
            if (e.Kind != IncidentEventKind.Resolve && e.TimestampMs >= fault.StartMs && e.TimestampMs <= windowEnd)
            {
                scored = e.IncidentId;
                firstMs = e.TimestampMs - fault.StartMs;
                break;
            }
        }

        var falseIncidents = 0;
        foreach (var e in events)
        {
            if (e.Kind == IncidentEventKind.Open && (e.TimestampMs < fault.StartMs || e.TimestampMs > windowEnd))
            {
                falseIncidents++;
            }
        }

        if (scored is null)
        {
            return new RcaCaseResult(caseName, fault.Kind, fault.RootCause, 0, null, null, [], falseIncidents);
        }

        IncidentEvent? last = null;
        foreach (var e in events)
        {
            if (string.Equals(e.IncidentId, scored, StringComparison.Ordinal) && e.RootCauses.Count > 0)
            {
                last = e;
            }
        }

        var top = new List<string>(5);
        var rank = 0;
        if (last is not null)
        {
            foreach (var candidate in last.RootCauses.OrderBy(c => c.Rank))
            {
                if (top.Count < 5)
                {
                    top.Add(candidate.Node);
                }

                if (rank == 0 && Matches(candidate.Node, fault))
                {
                    rank = candidate.Rank;
                }
            }
        }

        return new RcaCaseResult(caseName, fault.Kind, fault.RootCause, rank, firstMs, scored, top, falseIncidents);
    }

    /// <summary>Aggregates case results under a label.</summary>
    public static RcaSummary Summarise(string label, IReadOnlyList<RcaCaseResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        if (results.Count == 0)
        {
            return new RcaSummary(label, 0, 0, 0, 0, 0, null, 0);
        }

        var times = results.Where(r => r.TimeToFirstIncidentMs is not null).Select(r => r.TimeToFirstIncidentMs!.Value).Order().ToArray();
        return new RcaSummary(
            label,
            results.Count,
            times.Length,
            results.Average(r => r.AccuracyAt(1)),
            results.Average(r => r.AccuracyAt(3)),
            results.Average(r => r.Average5),
            times.Length == 0 ? null : times[times.Length / 2],
            results.Sum(r => r.FalseIncidents));
    }

    private static bool Matches(string node, GroundTruthFault fault) =>
        string.Equals(node, fault.RootCause, StringComparison.Ordinal)
        || (fault.Instance is not null && string.Equals(node, fault.Instance, StringComparison.Ordinal));
}
