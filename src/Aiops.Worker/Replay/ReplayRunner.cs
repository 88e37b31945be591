using System.Globalization;
using System.Net;
using System.Text;
using Aiops.Core;
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
/// report with the scores and an SVG plot per flagged input series (values, anomalies and their bands).
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
        var processor = new PipelineProcessor(pipeline);
        var messages = new List<IncidentMessage>();
        AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn()).Start(ctx =>
        {
            var task = ctx.AddTask("replaying in event time", maxValue: Math.Max(1, reader.Records.Count));
            for (var i = 0; i < reader.Records.Count; i++)
            {
                var r = reader.Records[i];
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
            File.WriteAllText(reportPath, Report(redaction.Text(dataset), ReplayRedaction.TruthFor(redaction, truth), messages, ReplayRedaction.PointsFor(redaction, reader), genAiSection));
            AnsiConsole.MarkupLine("Report with scores and plots: [grey]{0}[/].", Markup.Escape(reportPath));
        }

        return 0;
    }

    /// <summary>The HTML report: AC@1, AC@3, Avg@5 over the faults, one row per fault, one SVG per flagged input series, then <paramref name="extraSection"/> (the GenAI comparison).</summary>
    internal static string Report(string dataset, GroundTruth truth, IReadOnlyList<IncidentMessage> messages, DatasetReader reader, string extraSection = "")
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

        var flagged = latest.Values.SelectMany(static m => m.Anomalies).GroupBy(static a => new SeriesKey(a.Service, a.Metric, a.Labels)).Take(12).ToList();
        var bySeries = reader.Records.Where(static r => !r.IsSpan).GroupBy(static r => r.Point.Series).ToDictionary(static g => g.Key, static g => g.Select(static r => r.Point).ToList());
        html.Append("<h2>Flagged series</h2>");
        foreach (var group in flagged)
        {
            html.Append("<h3>").Append(WebUtility.HtmlEncode(group.Key.ToString())).Append("</h3>");
            html.Append(SvgPlot.Render(bySeries.GetValueOrDefault(group.Key) ?? [], [.. group]));
        }

        html.Append(extraSection).Append("</body></html>");
        return html.ToString();
    }
}
