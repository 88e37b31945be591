using System.Globalization;
using System.Net;
using System.Text;
using Aiops.GenAI;
using Aiops.Simulation.GenAi;
using Aiops.Worker.Outbound;
using Aiops.Worker.Processing;

namespace Aiops.Worker.Replay;

/// <summary>
/// The replay report's GenAI part: for every pair of prompt variants of one service and model,
/// the median time to first token and cost per request of each, the relative difference, and the
/// two-sided Mann–Whitney U test (a rank test: latencies and costs are skewed, so means would
/// mislead); the worse variant is named when p &lt; <see cref="Alpha"/>. With
/// <c>genai_ground_truth.json</c>, each planted fault is matched against the incidents.
/// </summary>
internal static class GenAiReportSection
{
    /// <summary>Significance level for naming a worse variant: 0.01, strict because a report compares several pairs and signals.</summary>
    public const double Alpha = 0.01;

    /// <summary>
    /// Incidents opened from this long before a fault's start count as its detection: 5 minutes,
    /// the detectors' onset tolerance (the same margin the end-to-end tests allow).
    /// </summary>
    public const long OnsetToleranceMs = 5 * 60_000L;

    /// <summary>One line per comparison, e.g. "assistant sim-large time_to_first_token_ms: few-shot worse than concise by +43.1 % (median 500 vs 349; Mann–Whitney U z=-25.1, p=1e-138)".</summary>
    public static string Describe(VariantComparison c)
    {
        ArgumentNullException.ThrowIfNull(c);
        var worse = c.Worse(Alpha);
        if (worse is null)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"{c.Service} {c.Model} {c.Signal}: no significant difference between {c.VariantA} and {c.VariantB} (medians {c.MedianA:G4} vs {c.MedianB:G4}; Mann–Whitney U p={P(c.Test.PValue)}, n={c.CountA}/{c.CountB})");
        }

        var better = worse == c.VariantA ? c.VariantB : c.VariantA;
        var (worseMedian, betterMedian) = worse == c.VariantA ? (c.MedianA, c.MedianB) : (c.MedianB, c.MedianA);
        return string.Create(CultureInfo.InvariantCulture,
            $"{c.Service} {c.Model} {c.Signal}: {worse} worse than {better} by +{c.RelativeDifference * 100:0.0} % (median {worseMedian:G4} vs {betterMedian:G4}; Mann–Whitney U z={c.Test.Z:0.0}, p={P(c.Test.PValue)}, n={c.CountA}/{c.CountB})");
    }

    /// <summary>
    /// A p-value as text: below the smallest normal double the normal tail underflows to 0, which
    /// would read as certainty; it is written as an upper bound instead.
    /// </summary>
    internal static string P(double p) => p >= 1e-300 ? p.ToString("G3", CultureInfo.InvariantCulture) : "<1e-300";

    /// <summary>Planted faults matched to incidents: the incidents (distinct ids) opened within a fault's window (less the onset tolerance) that name its service.</summary>
    public static IReadOnlyList<(GenAiFault Fault, IReadOnlyList<string> IncidentIds)> Match(GenAiGroundTruth truth, IReadOnlyList<IncidentMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(truth);
        ArgumentNullException.ThrowIfNull(messages);
        var result = new List<(GenAiFault, IReadOnlyList<string>)>();
        foreach (var fault in truth.Faults)
        {
            var ids = messages
                .Where(m => m.Event == "open" && m.OpenedAtMs >= fault.StartMs - OnsetToleranceMs && m.OpenedAtMs < fault.EndMs)
                .Where(m => m.Services.Contains(fault.Service) || m.RootCauses.Any(c => c.Service == fault.Service))
                .Select(static m => m.IncidentId)
                .Distinct(StringComparer.Ordinal)
                .ToList();
            result.Add((fault, ids));
        }

        return result;
    }

    /// <summary>
    /// The HTML section; empty when the replay saw no prompt variants and no GenAI truth exists.
    /// Names from the data (service, model, variant) pass the redaction gate like the incidents'
    /// (<paramref name="messages"/> are the redacted ones), so the truth is matched on redacted names.
    /// </summary>
    public static string Render(OutboundRedaction redaction, IReadOnlyList<VariantComparison> comparisons, GenAiGroundTruth? truth, IReadOnlyList<IncidentMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(redaction);
        ArgumentNullException.ThrowIfNull(comparisons);
        if (comparisons.Count == 0 && truth is null)
        {
            return "";
        }

        comparisons = [.. comparisons.Select(c => c with
        {
            Service = redaction.Name(c.Service),
            Model = redaction.Name(c.Model),
            VariantA = redaction.Name(c.VariantA),
            VariantB = redaction.Name(c.VariantB),
        })];
        truth = truth is null ? null : truth with
        {
            Service = redaction.Name(truth.Service),
            Model = redaction.Name(truth.Model),
            WorseVariant = redaction.Name(truth.WorseVariant),
            Faults = [.. truth.Faults.Select(f => f with { Service = redaction.Name(f.Service), Model = redaction.Name(f.Model) })],
        };

        var html = new StringBuilder();
        html.Append("<h2>GenAI prompt variants</h2>");
        if (comparisons.Count > 0)
        {
            html.Append(CultureInfo.InvariantCulture, $"<p>Two-sided Mann–Whitney U per pair of variants and signal; a variant is named worse when p &lt; {Alpha}.</p>");
            html.Append("<table><tr><th>service</th><th>model</th><th>signal</th><th>variants</th><th>n</th><th>medians</th><th>difference</th><th>z</th><th>p</th><th>worse</th></tr>");
            foreach (var c in comparisons)
            {
                html.Append("<tr><td>").Append(WebUtility.HtmlEncode(c.Service)).Append("</td><td>").Append(WebUtility.HtmlEncode(c.Model))
                    .Append("</td><td>").Append(WebUtility.HtmlEncode(c.Signal)).Append("</td><td>").Append(WebUtility.HtmlEncode(c.VariantA + " / " + c.VariantB))
                    .Append(CultureInfo.InvariantCulture, $"</td><td>{c.CountA} / {c.CountB}</td><td>{c.MedianA:G4} / {c.MedianB:G4}</td><td>+{c.RelativeDifference * 100:0.0} %</td><td>{c.Test.Z:0.0}</td><td>{WebUtility.HtmlEncode(P(c.Test.PValue))}</td><td>")
                    .Append(WebUtility.HtmlEncode(c.Worse(Alpha) ?? "no significant difference")).Append("</td></tr>");
            }

            html.Append("</table><ul>");
            foreach (var c in comparisons)
            {
                html.Append("<li>").Append(WebUtility.HtmlEncode(Describe(c))).Append("</li>");
            }

            html.Append("</ul>");
        }

        if (truth is not null)
        {
            html.Append("<h3>Planted GenAI faults</h3><table><tr><th>fault</th><th>kind</th><th>service</th><th>model</th><th>factor</th><th>incidents</th></tr>");
            foreach (var (fault, ids) in Match(truth, messages))
            {
                html.Append("<tr><td>").Append(WebUtility.HtmlEncode(fault.Id)).Append("</td><td>").Append(WebUtility.HtmlEncode(fault.Kind))
                    .Append("</td><td>").Append(WebUtility.HtmlEncode(fault.Service)).Append("</td><td>").Append(WebUtility.HtmlEncode(fault.Model))
                    .Append(CultureInfo.InvariantCulture, $"</td><td>×{fault.Factor:0.##}</td><td>{ids.Count}: ")
                    .Append(WebUtility.HtmlEncode(string.Join(", ", ids))).Append("</td></tr>");
            }

            html.Append("</table>");
            html.Append("<p>Expected worse variant (by construction): ").Append(WebUtility.HtmlEncode(truth.WorseVariant)).Append(".</p>");
        }

        return html.ToString();
    }
}
