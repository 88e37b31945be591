using System.Globalization;
using System.Net;
using System.Text;
using Aiops.Core;
using Aiops.Detection;
using Aiops.Pipeline;
using Aiops.Simulation;
using Aiops.Simulation.GenAi;
using Aiops.Worker.Demo;
using Aiops.Worker.GenAi;
using Aiops.Worker.Outbound;
using Aiops.Worker.Processing;
using Spectre.Console;

namespace Aiops.Worker.Replay;

/// <summary>
/// <c>aiops replay</c>: a dataset through the same <see cref="EventTimePipeline"/> the worker runs,
/// in event time; incidents to <c>incidents.jsonl</c>, and with <c>ground_truth.json</c> an HTML
/// report (<c>report.html</c>) with the scores and a PNG plot per flagged series
/// (<c>plots/*.png</c>: observed values, the detectors' baseline and band, the flagged points).
/// </summary>
internal static class ReplayRunner
{
    public static int Run(string dataset, string output)
    {
        var reader = DatasetReader.Read(dataset);
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "Read {0:N0} records from {1} file(s) in [grey]{2}[/]; {3} bad record(s).",
            reader.Records.Count, reader.Files.Count, Markup.Escape(dataset), reader.Errors.Values.Sum());
        var configuration = OutboundServices.LoadConfiguration();
        var redaction = OutboundServices.RedactionFrom(configuration);
        var genAi = GenAiFeed.FromConfiguration(configuration);
        var pipeline = new EventTimePipeline();
        var recorder = new SeriesRecorder();
        pipeline.DetectionObserver = recorder.Record;
        var processor = new PipelineProcessor(pipeline);
        var messages = new List<IncidentMessage>();
        AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn()).Start(ctx =>
        {
            var task = ctx.AddTask("replaying in event time", maxValue: Math.Max(1, reader.Records.Count));
            var exemplar = 0;
            for (var i = 0; i < reader.Records.Count; i++)
            {
                var r = reader.Records[i];
                for (; exemplar < reader.Exemplars.Count && reader.Exemplars[exemplar].TimestampMs <= r.TimestampMs; exemplar++)
                {
                    var e = reader.Exemplars[exemplar];
                    pipeline.AddExemplar(e.Series, e.TimestampMs, e.TraceId);
                }

                if (r.IsSpan)
                {
                    pipeline.AddSpan(r.Span);
                    genAi.Add(r.Span, pipeline);
                }
                else
                {
                    pipeline.AddMetric(r.Point);
                }

                if ((i & 4095) == 0)
                {
                    task.Value = i;
                    processor.DrainIncidents(messages);
                }
            }

            genAi.Flush(pipeline);
            pipeline.Flush();
            processor.DrainIncidents(messages);
            task.Value = task.MaxValue;
        });

        // Everything written below leaves the process: incidents and report go through the redaction gate.
        var rawMessages = messages;
        messages = redaction.Incidents(messages);
        Directory.CreateDirectory(output);
        var incidentsPath = Path.Combine(output, "incidents.jsonl");
        using (var file = File.Create(incidentsPath))
        {
            foreach (var m in messages)
            {
                file.Write(IncidentJsonContext.ToUtf8(m));
                file.WriteByte((byte)'\n');
            }
        }

        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "{0} incident events ({1} incidents) written to [grey]{2}[/].",
            messages.Count, messages.Select(static m => m.IncidentId).Distinct().Count(), Markup.Escape(incidentsPath));

        var comparisons = genAi.Aggregator.Variants.Compare();
        foreach (var c in comparisons)
        {
            AnsiConsole.MarkupLine("GenAI: {0}", Markup.Escape(redaction.Text(GenAiReportSection.Describe(c))));
        }

        var genAiTruthPath = Path.Combine(dataset, GenAiGroundTruth.FileName);
        var genAiSection = GenAiReportSection.Render(redaction, comparisons, File.Exists(genAiTruthPath) ? GenAiGroundTruth.Load(genAiTruthPath) : null, messages);
        var truthPath = Path.Combine(dataset, "ground_truth.json");
        if (File.Exists(truthPath))
        {
            var truth = GroundTruth.Load(truthPath);
            var reportPath = Path.Combine(output, "report.html");
            var plots = WritePlots(output, rawMessages, recorder, redaction.Series);
            File.WriteAllText(reportPath, Report(redaction.Text(dataset), ReplayRedaction.TruthFor(redaction, truth), messages, ReplayRedaction.PointsFor(redaction, reader), plots, genAiSection));
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "Report with scores and {0} plot(s): [grey]{1}[/].", plots.Count, Markup.Escape(reportPath));
        }

        return 0;
    }

    /// <summary>At most this many series are plotted: the report stays a page, not a dump (the strongest first).</summary>
    internal const int MaxPlots = 12;

    /// <summary>
    /// The flagged series, plotted into <c>plots/NN.png</c> under <paramref name="output"/>: first
    /// the series behind the incidents (their verdicts, strongest first), then series whose
    /// detectors fired without making an incident (most fired points first), so a replay that
    /// opened nothing still shows what the detectors saw.
    /// </summary>
    /// <param name="output">The output directory.</param>
    /// <param name="messages">The incident events as the pipeline made them (before redaction, so their series match the recorder's).</param>
    /// <param name="recorder">What the detectors saw per series.</param>
    /// <param name="shown">How a series is named where it leaves the process (plot titles, the report): the redaction gate.</param>
    internal static List<PlotFile> WritePlots(string output, IReadOnlyList<IncidentMessage> messages, SeriesRecorder recorder, Func<SeriesKey, SeriesKey> shown)
    {
        var inIncidents = new Dictionary<SeriesKey, List<FlaggedPoint>>();
        foreach (var m in messages)
        {
            foreach (var a in m.Anomalies)
            {
                var key = new SeriesKey(a.Service, a.Metric, a.Labels);
                if (!inIncidents.TryGetValue(key, out var list))
                {
                    inIncidents[key] = list = [];
                }

                if (!list.Exists(x => x.TimestampMs == a.TimestampMs && x.Detector == a.Detector))
                {
                    list.Add(new FlaggedPoint(a.TimestampMs, a.Detector, a.Observed, a.Expected, a.Lower, a.Upper, a.PValue, a.Score));
                }
            }
        }

        var chosen = inIncidents.OrderByDescending(static f => f.Value.Max(static a => a.Score)).ThenBy(static f => f.Key.ToString(), StringComparer.Ordinal)
            .Select(static f => (f.Key, f.Value, InIncident: true)).Take(MaxPlots).ToList();
        if (chosen.Count < MaxPlots)
        {
            var firedOnly = new List<(SeriesKey, List<FlaggedPoint>, bool)>();
            foreach (var (series, samples) in recorder.Series)
            {
                if (inIncidents.ContainsKey(series))
                {
                    continue;
                }

                var fired = new List<FlaggedPoint>();
                foreach (var s in samples)
                {
                    if (s.Fired != DetectorFlags.None)
                    {
                        fired.Add(new FlaggedPoint(s.TimestampMs, s.Fired.ToString(), s.Observed, s.Expected, s.Lower, s.Upper, s.PValue, s.Score));
                    }
                }

                if (fired.Count > 0)
                {
                    firedOnly.Add((series, fired, false));
                }
            }

            chosen.AddRange(firedOnly.OrderByDescending(static f => f.Item2.Count).ThenBy(static f => f.Item1.ToString(), StringComparer.Ordinal).Take(MaxPlots - chosen.Count));
        }

        var plots = new List<PlotFile>();
        if (chosen.Count > 0)
        {
            Directory.CreateDirectory(Path.Combine(output, "plots"));
        }

        foreach (var (series, points, inIncident) in chosen)
        {
            points.Sort(static (a, b) => a.TimestampMs.CompareTo(b.TimestampMs));
            var samples = recorder.Series.GetValueOrDefault(series) ?? [];
            var file = string.Create(CultureInfo.InvariantCulture, $"plots/{plots.Count + 1:00}.png");
            File.WriteAllBytes(Path.Combine(output, file), PngPlot.Render(shown(series).ToString(), samples, [.. points.Select(static p => (p.TimestampMs, p.Observed))]));
            plots.Add(new PlotFile(shown(series), file, points, samples.Count, inIncident));
        }

        return plots;
    }

    /// <summary>The HTML report: AC@1, AC@3, Avg@5 over the faults, one row per fault, one PNG per flagged series with its verdicts.</summary>
    internal static string Report(string dataset, GroundTruth truth, IReadOnlyList<IncidentMessage> messages, DatasetReader reader, IReadOnlyList<PlotFile>? plots = null, string extraSection = "")
    {
        var latest = new Dictionary<string, IncidentMessage>(StringComparer.Ordinal);
        foreach (var m in messages)
        {
            if (m.Event != "resolve" || !latest.ContainsKey(m.IncidentId))
            {
                latest[m.IncidentId] = m;
            }
        }

        var html = new StringBuilder();
        html.Append("<!doctype html><html><head><meta charset=\"utf-8\"><title>aiops replay report</title>")
            .Append("<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}</style></head><body>")
            .Append("<h1>Replay of ").Append(WebUtility.HtmlEncode(dataset)).Append("</h1>");
        var ranks = new List<int?>();
        html.Append("<table><tr><th>fault</th><th>kind</th><th>root cause</th><th>incident</th><th>rank</th></tr>");
        foreach (var fault in truth.Faults)
        {
            var (incident, rank) = DemoScoring.BestMatch(fault, messages);
            ranks.Add(rank);
            html.Append("<tr><td>").Append(WebUtility.HtmlEncode(fault.Id)).Append("</td><td>").Append(WebUtility.HtmlEncode(fault.Kind))
                .Append("</td><td>").Append(WebUtility.HtmlEncode(fault.RootCause)).Append("</td><td>").Append(WebUtility.HtmlEncode(incident?.IncidentId ?? "none"))
                .Append("</td><td>").Append(rank?.ToString(CultureInfo.InvariantCulture) ?? "not ranked").Append("</td></tr>");
        }

        html.Append("</table>");
        var n = Math.Max(1, ranks.Count);
        // AC@k: share of faults whose root cause is in the top k; Avg@5: mean of AC@1..AC@5 (the MicroRCA / RCAEval definitions).
        double Ac(int k) => ranks.Count(r => r is { } v && v <= k) / (double)n;
        var avg5 = Enumerable.Range(1, 5).Average(Ac);
        html.Append(CultureInfo.InvariantCulture, $"<p>AC@1 {Ac(1):0.00}, AC@3 {Ac(3):0.00}, Avg@5 {avg5:0.00} over {ranks.Count} fault(s); {latest.Count} incident(s) in total.</p>");

        html.Append("<h2>Flagged series</h2>");
        if (plots is null || plots.Count == 0)
        {
            html.Append("<p>No series was flagged.</p>");
        }

        foreach (var plot in plots ?? [])
        {
            var name = WebUtility.HtmlEncode(plot.Series.ToString());
            html.Append("<h3>").Append(name).Append("</h3>")
                .Append(CultureInfo.InvariantCulture, $"<p>{plot.Samples:N0} points scored; {(plot.InIncident ? "in an incident" : "detectors fired, no incident")}; observed (blue), baseline and normal band (green), flagged points (red).</p>")
                .Append("<img src=\"").Append(plot.File).Append("\" alt=\"").Append(name).Append(CultureInfo.InvariantCulture, $"\" width=\"{PngPlot.Width}\" height=\"{PngPlot.Height}\">")
                .Append("<table><tr><th>time (UTC)</th><th>detector</th><th>observed</th><th>expected</th><th>band</th><th>p-value</th><th>score</th></tr>");
            foreach (var a in plot.Anomalies.Take(10))
            {
                html.Append(CultureInfo.InvariantCulture, $"<tr><td>{DateTimeOffset.FromUnixTimeMilliseconds(a.TimestampMs):yyyy-MM-dd HH:mm}</td><td>{WebUtility.HtmlEncode(a.Detector)}</td><td>{a.Observed:G4}</td><td>{a.Expected:G4}</td><td>[{a.Lower:G4}, {a.Upper:G4}]</td><td>{a.PValue:G2}</td><td>{a.Score:0.00}</td></tr>");
            }

            html.Append("</table>");
        }

        html.Append(extraSection).Append("</body></html>");
        return html.ToString();
    }
}

/// <summary>One plot of the report: the series, its PNG's path relative to the report, the flagged points, how many points were scored, and whether an incident carried it.</summary>
internal sealed record PlotFile(SeriesKey Series, string File, IReadOnlyList<FlaggedPoint> Anomalies, int Samples, bool InIncident);

/// <summary>A flagged point of a plotted series: an incident's verdict, or a point where detectors fired.</summary>
internal sealed record FlaggedPoint(long TimestampMs, string Detector, double Observed, double Expected, double Lower, double Upper, double PValue, double Score);
