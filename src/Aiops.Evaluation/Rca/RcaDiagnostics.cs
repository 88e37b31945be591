using System.Globalization;
using System.Text;
using Aiops.Pipeline;
using Aiops.Simulation;
using RedMetrics = Aiops.Topology.RedMetrics;

namespace Aiops.Evaluation;

/// <summary>
/// Collects a case's <see cref="PipelineTrace"/>s around its fault (from <see cref="LeadMs"/> before
/// the start to the scoring grace after the end) and explains the outcome: the scored incident's
/// top five with their score parts and evidence, and what became of every verdict and skipped
/// point on the nodes the fault touches (the root cause, and the caller of a faulty edge).
/// </summary>
internal sealed class RcaDiagnostics
{
    /// <summary>Time before the fault start that is still collected: 10 min, the correlation window.</summary>
    public const long LeadMs = 10 * 60_000L;

    private readonly GroundTruthFault _fault;
    private readonly SortedDictionary<string, Tally> _tallies = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, int> _forwardedByNode = new(StringComparer.Ordinal);

    public RcaDiagnostics(GroundTruthFault fault) => _fault = fault;

    /// <summary>Takes one trace (the pipeline's callback).</summary>
    public void Observe(PipelineTrace trace)
    {
        var ts = trace.Point.TimestampMs;
        if (ts < _fault.StartMs - LeadMs || ts > _fault.EndMs + RcaScoring.GraceMs)
        {
            return;
        }

        var series = trace.Point.Series;
        var node = RedMetrics.NodeOf(series);
        if (trace.Fate == TraceFate.Forwarded)
        {
            _forwardedByNode[node] = _forwardedByNode.GetValueOrDefault(node) + 1;
        }

        if (!Concerns(node, series.Service))
        {
            return;
        }

        var detector = trace.Verdict is { } v ? v.Detector.ToString() : "-";
        var key = string.Create(CultureInfo.InvariantCulture, $"{series.Service}/{series.Metric}{{{series.Labels}}} {detector} {trace.Fate}");
        if (!_tallies.TryGetValue(key, out var tally))
        {
            tally = new Tally { FirstMs = ts };
            _tallies.Add(key, tally);
        }

        tally.Count++;
        tally.FirstMs = Math.Min(tally.FirstMs, ts);
    }

    /// <summary>The explanation of one case.</summary>
    public string Format(RcaCaseResult result, IReadOnlyList<IncidentEvent> events)
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(inv, $"== {result.Case} rank={result.Rank} cause={_fault.RootCause}{(_fault.Caller is null ? string.Empty : " caller=" + _fault.Caller)}{(_fault.Instance is null ? string.Empty : " instance=" + _fault.Instance)}");
        foreach (var e in events)
        {
            if (e.Kind == IncidentEventKind.Open && (e.TimestampMs < _fault.StartMs || e.TimestampMs > _fault.EndMs + RcaScoring.GraceMs))
            {
                text.AppendLine(inv, $"  false open {e.IncidentId} at={Offset(e.TimestampMs)} {e.Summary}");
                foreach (var a in e.Anomalies)
                {
                    text.AppendLine(inv, $"      {a.Series.Service}/{a.Series.Metric}{{{a.Series.Labels}}} {a.Detector} {a.Direction} at={Offset(a.TimestampMs)} obs={a.Observed:0.###} exp={a.Expected:0.###} band=[{a.Lower:0.###}, {a.Upper:0.###}] score={a.Score:0.00}");
                }
            }
        }

        IncidentEvent? last = null;
        foreach (var e in events)
        {
            if (e.TimestampMs >= _fault.StartMs - LeadMs && e.TimestampMs <= _fault.EndMs + RcaScoring.GraceMs + (30 * 60_000L))
            {
                text.AppendLine(inv, $"  event {e.Kind} {e.IncidentId} at={Offset(e.TimestampMs)} first={Offset(e.OpenedAtMs)} nodes=[{string.Join(", ", e.AffectedNodes)}] top=[{string.Join(", ", e.RootCauses.Select(c => c.Node))}]");
            }

            if (string.Equals(e.IncidentId, result.IncidentId, StringComparison.Ordinal) && e.RootCauses.Count > 0)
            {
                last = e;
            }
        }

        if (last is null)
        {
            text.AppendLine("  no incident in the fault window");
        }
        else
        {
            foreach (var c in last.RootCauses)
            {
                text.AppendLine(inv, $"  #{c.Rank} {c.Node} score={c.Score:0.000} onset={Offset(c.OnsetMs)}");
                foreach (var a in c.Evidence)
                {
                    text.AppendLine(inv, $"      {a.Series.Service}/{a.Series.Metric}{{{a.Series.Labels}}} {a.Detector} since={Offset(a.SinceMs)} at={Offset(a.TimestampMs)} score={a.Score:0.00} obs={a.Observed:0.###} exp={a.Expected:0.###}");
                }
            }
        }

        text.Append("  forwarded verdicts per node:");
        foreach (var (node, count) in _forwardedByNode)
        {
            text.Append(inv, $" {node}={count}");
        }

        text.AppendLine();
        foreach (var (key, tally) in _tallies)
        {
            text.AppendLine(inv, $"    {key} x{tally.Count} first={Offset(tally.FirstMs)}");
        }

        return text.ToString();
    }

    /// <summary>The incidents of a fault-free run (which should have none), each with the verdicts that opened it.</summary>
    public static string FormatFalseIncidents(string name, long startMs, IReadOnlyList<IncidentEvent> events)
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(inv, $"== {name}");
        foreach (var e in events)
        {
            if (e.Kind != IncidentEventKind.Open)
            {
                continue;
            }

            text.AppendLine(inv, $"  open {e.IncidentId} at={(e.TimestampMs - startMs) / 60_000.0:0.0}m {e.Summary}");
            foreach (var a in e.Anomalies)
            {
                text.AppendLine(inv, $"      {a.Series.Service}/{a.Series.Metric}{{{a.Series.Labels}}} {a.Detector} {a.Direction} obs={a.Observed:0.###} exp={a.Expected:0.###} band=[{a.Lower:0.###}, {a.Upper:0.###}] score={a.Score:0.00}");
            }
        }

        return text.ToString();
    }

    private bool Concerns(string node, string service) =>
        string.Equals(node, _fault.RootCause, StringComparison.Ordinal)
        || string.Equals(service, _fault.RootCause, StringComparison.Ordinal)
        || (_fault.Caller is not null && string.Equals(service, _fault.Caller, StringComparison.Ordinal)
            && string.Equals(node, _fault.RootCause, StringComparison.Ordinal));

    private string Offset(long ms) => ((ms - _fault.StartMs) / 60_000.0).ToString("+0.0;-0.0", CultureInfo.InvariantCulture) + "m";

    private sealed class Tally
    {
        public int Count;
        public long FirstMs;
    }
}
