using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Aiops.Pipeline;
using Aiops.Simulation;

namespace Aiops.Evaluation;

/// <summary>Settings of one RCA evaluation run.</summary>
public sealed class RcaEvaluationOptions
{
    /// <summary>Seed of the suite (targets, starts, intensities and every simulated draw).</summary>
    public int Seed { get; set; } = 1;

    /// <summary>Number of fault cases; 56 = 8 per fault kind (the issue asks for ≥ 50).</summary>
    public int Cases { get; set; } = 56;

    /// <summary>Simulated days of fault-free traffic (one run); 7 = the issue's "simulated week". 0 skips it.</summary>
    public double FaultFreeDays { get; set; } = 7;

    /// <summary>Cases run at once; defaults to the processor count.</summary>
    public int Parallelism { get; set; } = Environment.ProcessorCount;

    /// <summary>Shape of each case.</summary>
    public SuiteOptions Suite { get; set; } = new();

    /// <summary>Collect per-case diagnostics (<see cref="RcaReport.FormatDiagnostics"/>): slower, for finding why causes are missed.</summary>
    public bool Verbose { get; set; }

    /// <summary>Only the cases whose name contains one of these (comma-separated) strings; null runs all.</summary>
    public string? Only { get; set; }

    /// <summary>Pipeline settings used for every case.</summary>
    public Func<PipelineOptions> Pipeline { get; set; } = static () => new PipelineOptions();
}

/// <summary>What an RCA evaluation run measured.</summary>
/// <param name="Cases">Per-case results, in suite order.</param>
/// <param name="ByKind">Per fault kind, in <see cref="FaultKinds.All"/> order, then <c>all</c>.</param>
/// <param name="FaultFreeDays">Simulated fault-free days.</param>
/// <param name="FaultFreeIncidents">Incidents opened in the fault-free run (target 0).</param>
/// <param name="FaultFreeAnomalies">Anomaly verdicts in the fault-free run (for context).</param>
/// <param name="Diagnostics">Per case (suite order), the explanation of its outcome; empty unless <see cref="RcaEvaluationOptions.Verbose"/>.</param>
public sealed record RcaReport(
    IReadOnlyList<RcaCaseResult> Cases,
    IReadOnlyList<RcaSummary> ByKind,
    double FaultFreeDays,
    int FaultFreeIncidents,
    long FaultFreeAnomalies,
    IReadOnlyList<string> Diagnostics)
{
    /// <summary>The per-case diagnostics, one block per case (empty unless verbose).</summary>
    public string FormatDiagnostics() => string.Concat(Diagnostics);

    /// <summary>A plain-text table of the figures, as printed by <c>eval rca</c>.</summary>
    public string Format()
    {
        var text = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        text.AppendLine(inv, $"{"fault kind",-22}{"cases",6}{"found",7}{"AC@1",7}{"AC@3",7}{"Avg@5",7}{"TTFI",9}{"false",7}");
        foreach (var s in ByKind)
        {
            var ttfi = s.MedianTimeToFirstIncidentMs is { } ms ? (ms / 60_000.0).ToString("0.0", inv) + "m" : "-";
            text.AppendLine(inv, $"{s.Label,-22}{s.Cases,6}{s.Detected,7}{s.Ac1,7:0.00}{s.Ac3,7:0.00}{s.Avg5,7:0.00}{ttfi,9}{s.FalseIncidents,7}");
        }

        text.AppendLine(inv, $"fault-free: {FaultFreeDays:0.#} simulated days, {FaultFreeIncidents} incidents, {FaultFreeAnomalies} anomaly verdicts");
        text.AppendLine("TTFI = median time from fault start to the first incident event; false = incidents opened outside fault windows.");
        return text.ToString();
    }

    /// <summary>One line per case: name, rank of the root cause, time to first incident, top five.</summary>
    public string FormatCases()
    {
        var text = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        foreach (var c in Cases)
        {
            var ttfi = c.TimeToFirstIncidentMs is { } ms ? (ms / 60_000.0).ToString("0.0", inv) + "m" : "-";
            text.AppendLine(inv, $"{c.Case,-44} rank={c.Rank} ttfi={ttfi} false={c.FalseIncidents} top=[{string.Join(", ", c.TopCandidates)}]");
        }

        return text.ToString();
    }
}

/// <summary>
/// Runs the simulator's standard suite through the <see cref="EventTimePipeline"/> (one pipeline
/// per case, cases in parallel) and scores the rankings with <see cref="RcaScoring"/>; also runs a
/// fault-free stretch, which should open no incident.
/// </summary>
public static class RcaEvaluation
{
    /// <summary>Runs the evaluation; <paramref name="progress"/> receives each finished case's name.</summary>
    public static RcaReport Run(RcaEvaluationOptions options, Action<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        IReadOnlyList<SuiteCase> suite = FaultSuite.Standard(options.Seed, options.Cases, options.Suite);
        if (options.Only is { Length: > 0 } only)
        {
            var parts = only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            suite = [.. suite.Where(c => parts.Any(p => c.Name.Contains(p, StringComparison.Ordinal)))];
        }

        var jobs = new List<SuiteCase>(suite);
        if (options.FaultFreeDays > 0)
        {
            // The long fault-free run goes first so it does not finish last on its own core.
            jobs.Insert(0, FaultSuite.FaultFree(options.Seed, options.FaultFreeDays, options.Suite.TracesPerMinute));
        }

        var results = new ConcurrentDictionary<string, (IReadOnlyList<IncidentEvent> Events, PipelineCounters Counters, GroundTruth Truth)>(StringComparer.Ordinal);
        var diagnostics = new ConcurrentDictionary<string, RcaDiagnostics>(StringComparer.Ordinal);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Parallelism), CancellationToken = cancellationToken };
        Parallel.ForEach(jobs, parallel, job =>
        {
            RcaDiagnostics? diagnostic = null;
            if (options.Verbose && job.Scenario.Faults.Count > 0)
            {
                diagnostic = new RcaDiagnostics(new ShopSimulator(job.Scenario).GroundTruth.Faults[0]);
                diagnostics[job.Name] = diagnostic;
            }

            var (events, counters, truth) = RunCase(job.Scenario, options.Pipeline(), diagnostic is null ? null : diagnostic.Observe);
            results[job.Name] = (events, counters, truth);
            progress?.Invoke(job.Name);
        });

        var caseResults = new List<RcaCaseResult>(suite.Count);
        var explanations = new List<string>();
        foreach (var job in suite)
        {
            var (events, _, truth) = results[job.Name];
            var result = RcaScoring.Score(job.Name, truth.Faults[0], events);
            caseResults.Add(result);
            if (diagnostics.TryGetValue(job.Name, out var diagnostic))
            {
                explanations.Add(diagnostic.Format(result, events));
            }
        }

        var byKind = new List<RcaSummary>();
        foreach (var kind in FaultKinds.All)
        {
            var name = FaultKinds.Name(kind);
            var ofKind = caseResults.Where(r => r.Kind == name).ToList();
            if (ofKind.Count > 0)
            {
                byKind.Add(RcaScoring.Summarise(name, ofKind));
            }
        }

        byKind.Add(RcaScoring.Summarise("all", caseResults));
        var faultFreeIncidents = 0;
        long faultFreeAnomalies = 0;
        if (options.FaultFreeDays > 0)
        {
            var (events, counters, _) = results[jobs[0].Name];
            faultFreeIncidents = events.Count(e => e.Kind == IncidentEventKind.Open);
            faultFreeAnomalies = counters.Anomalies;
            if (options.Verbose)
            {
                explanations.Add(RcaDiagnostics.FormatFalseIncidents(jobs[0].Name, jobs[0].Scenario.StartMs, events));
            }
        }

        return new RcaReport(caseResults, byKind, options.FaultFreeDays, faultFreeIncidents, faultFreeAnomalies, explanations);
    }

    /// <summary>Simulates one scenario and feeds it through a fresh pipeline in event time.</summary>
    /// <param name="scenario">The scenario to simulate.</param>
    /// <param name="pipelineOptions">Pipeline settings.</param>
    /// <param name="trace">Optional diagnostic callback (<see cref="EventTimePipeline.Trace"/>).</param>
    public static (IReadOnlyList<IncidentEvent> Events, PipelineCounters Counters, GroundTruth Truth) RunCase(ScenarioOptions scenario, PipelineOptions pipelineOptions, Action<PipelineTrace>? trace = null)
    {
        var simulator = new ShopSimulator(scenario);
        var pipeline = new EventTimePipeline(pipelineOptions) { Trace = trace };
        var events = new List<IncidentEvent>();
        foreach (var batch in simulator.Batches())
        {
            foreach (var point in batch.Metrics)
            {
                pipeline.AddMetric(point);
            }

            foreach (var span in batch.Spans)
            {
                pipeline.AddSpan(span);
            }

            events.AddRange(pipeline.TakeEvents());
        }

        pipeline.Flush();
        events.AddRange(pipeline.TakeEvents());
        return (events, pipeline.Counters, simulator.GroundTruth);
    }
}
