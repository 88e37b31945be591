using System.Globalization;
using System.Text;
using Aiops.Evaluation.Detectors;

namespace Aiops.Evaluation.Gray;

/// <summary>How one case went.</summary>
/// <param name="Case">The case.</param>
/// <param name="Verdicts">Verdicts the detector raised.</param>
/// <param name="Detected">True when a faulty case got a verdict inside its match window.</param>
/// <param name="DelayMs">First matching verdict's time minus the fault start (faulty, detected cases), else −1.</param>
/// <param name="FalseAlarms">Groups of verdicts outside the match window (see <see cref="GrayEvaluator.AlarmGapMs"/>).</param>
/// <param name="FalseAlarmDetails">One line per false alarm (its first verdict: point index, detector, evidence), for diagnosing which detector misfires.</param>
internal sealed record GrayCaseOutcome(GrayCase Case, int Verdicts, bool Detected, long DelayMs, int FalseAlarms, IReadOnlyList<string>? FalseAlarmDetails = null);

/// <summary>Recall, precision and delay of one fault kind.</summary>
/// <param name="Kind">The fault kind.</param>
/// <param name="FaultyCases">Cases with a planted fault.</param>
/// <param name="Controls">Fault-free controls.</param>
/// <param name="Detected">Faulty cases with a verdict in the match window.</param>
/// <param name="FalseAlarms">False alarms over the faulty cases (outside their window) and the controls.</param>
/// <param name="ControlFalseAlarms">The part of <paramref name="FalseAlarms"/> raised on controls.</param>
/// <param name="MeanDelayMinutes">Mean delay of the detected faults, in minutes (NaN when none was detected).</param>
/// <param name="MaxDelayMinutes">Largest delay of the detected faults, in minutes.</param>
internal sealed record GrayKindScore(GrayFaultKind Kind, int FaultyCases, int Controls, int Detected, int FalseAlarms, int ControlFalseAlarms, double MeanDelayMinutes, double MaxDelayMinutes)
{
    /// <summary>Detected faults / faulty cases.</summary>
    public double Recall => FaultyCases == 0 ? double.NaN : (double)Detected / FaultyCases;

    /// <summary>Detected faults / (detected faults + false alarms); 1 when nothing was raised at all.</summary>
    public double Precision => Detected + FalseAlarms == 0 ? 1.0 : (double)Detected / (Detected + FalseAlarms);
}

/// <summary>
/// Runs generated gray-failure cases through a detector and scores the verdicts per fault kind.
/// </summary>
/// <remarks>
/// Matching, precisely: each case is streamed through a fresh detector, point by point; every
/// verdict (a non-null <see cref="DetectorOutput.Verdict"/>) is placed by its point's event time.
/// <list type="bullet">
/// <item>A faulty case is <b>detected</b> (one true positive) when at least one verdict falls in
/// its match window [fault start, fault end + grace] (grace is 15 min for the 15-min seasonal
/// spike, none for the persistent faults, which last to the end of the case). Many verdicts in
/// the window still count as one detection.</item>
/// <item>Its <b>delay</b> is the first such verdict's time minus the fault start.</item>
/// <item>Every verdict outside a match window, in a faulty case before its fault or anywhere in
/// a control, is a false positive. False positives of one case less than
/// <see cref="AlarmGapMs"/> apart are one <b>false alarm</b> (what an on-call engineer would be
/// paged for once the incident is deduplicated).</item>
/// <item>Recall = detected / faulty cases; precision = detected / (detected + false alarms),
/// both per kind, where a kind's false alarms come from its own faulty cases and controls.</item>
/// </list>
/// </remarks>
internal static class GrayEvaluator
{
    /// <summary>False-positive verdicts closer than 30 minutes form one false alarm.</summary>
    public const long AlarmGapMs = 30 * 60_000;

    /// <summary>Streams one case through a fresh detector and matches its verdicts.</summary>
    public static GrayCaseOutcome Evaluate(GrayCase grayCase, IDetectorFactory factory)
    {
        var detector = factory.Create(grayCase.Series, grayCase.MetricKind, grayCase.Limit);
        var verdicts = 0;
        long firstMatch = -1;
        var falseAlarms = 0;
        var lastFalse = long.MinValue;
        List<string>? details = null;
        for (var index = 0; index < grayCase.Points.Length; index++)
        {
            var point = grayCase.Points[index];
            var output = detector.Observe(point);
            if (output.Verdict is null)
            {
                continue;
            }

            verdicts++;
            var t = point.TimestampMs;
            if (grayCase.InFaultWindow(t))
            {
                if (firstMatch < 0)
                {
                    firstMatch = t;
                }
            }
            else
            {
                if (lastFalse == long.MinValue || t - lastFalse >= AlarmGapMs)
                {
                    falseAlarms++;
                    var v = output.Verdict;
                    (details ??= []).Add(string.Create(CultureInfo.InvariantCulture,
                        $"{grayCase.Kind} #{grayCase.Index} {(grayCase.Faulty ? "faulty" : "control")} point {index} (fault at {grayCase.FaultStartIndex}): {v.Detector}, observed {v.Observed:G6}, expected {v.Expected:G6}, p = {v.PValue:G3}; {v.Detail}"));
                }

                lastFalse = t;
            }
        }

        var detected = firstMatch >= 0;
        return new GrayCaseOutcome(grayCase, verdicts, detected, detected ? firstMatch - grayCase.FaultStartMs : -1, falseAlarms, details);
    }

    /// <summary>Evaluates all cases (in parallel) and aggregates per kind, in <see cref="GrayFailureGenerator.Kinds"/> order.</summary>
    public static (List<GrayKindScore> Kinds, GrayCaseOutcome[] Outcomes) Evaluate(IReadOnlyList<GrayCase> cases, IDetectorFactory factory, int parallelism)
    {
        var outcomes = new GrayCaseOutcome[cases.Count];
        Parallel.For(0, cases.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism) }, i =>
            outcomes[i] = Evaluate(cases[i], factory));
        return (Aggregate(outcomes), outcomes);
    }

    /// <summary>Aggregates outcomes per kind.</summary>
    public static List<GrayKindScore> Aggregate(IReadOnlyList<GrayCaseOutcome> outcomes)
    {
        var scores = new List<GrayKindScore>();
        foreach (var kind in GrayFailureGenerator.Kinds)
        {
            int faulty = 0, controls = 0, detected = 0, falseAlarms = 0, controlAlarms = 0;
            double delaySum = 0, delayMax = 0;
            foreach (var o in outcomes)
            {
                if (o.Case.Kind != kind)
                {
                    continue;
                }

                falseAlarms += o.FalseAlarms;
                if (!o.Case.Faulty)
                {
                    controls++;
                    controlAlarms += o.FalseAlarms;
                    continue;
                }

                faulty++;
                if (o.Detected)
                {
                    detected++;
                    var minutes = o.DelayMs / 60_000.0;
                    delaySum += minutes;
                    delayMax = Math.Max(delayMax, minutes);
                }
            }

            if (faulty + controls > 0)
            {
                scores.Add(new GrayKindScore(kind, faulty, controls, detected, falseAlarms, controlAlarms, detected == 0 ? double.NaN : delaySum / detected, delayMax));
            }
        }

        return scores;
    }

    /// <summary>Formats the per-kind table with the targets (recall and precision ≥ 0.9).</summary>
    public static string Format(string header, IReadOnlyList<GrayKindScore> scores)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(header);
        sb.AppendLine(c, $"{"kind",-14} {"faulty",6} {"controls",8} {"detected",8} {"false alarms",12} {"(controls)",10} {"recall",7} {"precision",9} {"mean delay",10} {"max delay",9} {"target",6}");
        foreach (var s in scores)
        {
            var pass = s.Recall >= 0.9 && s.Precision >= 0.9;
            sb.AppendLine(c, $"{s.Kind,-14} {s.FaultyCases,6} {s.Controls,8} {s.Detected,8} {s.FalseAlarms,12} {s.ControlFalseAlarms,10} {s.Recall,7:F3} {s.Precision,9:F3} {s.MeanDelayMinutes,8:F1} m {s.MaxDelayMinutes,7:F1} m {(pass ? "pass" : "FAIL"),6}");
        }

        sb.AppendLine("A verdict in [fault start, fault end + grace] detects the fault (once per case); verdicts elsewhere are false positives,");
        sb.AppendLine("grouped per case into false alarms when less than 30 min apart. Precision = detected / (detected + false alarms). Target: recall and precision >= 0.9.");
        return sb.ToString();
    }
}
