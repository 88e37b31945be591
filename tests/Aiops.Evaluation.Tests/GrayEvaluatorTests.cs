using Aiops.Core;
using Aiops.Detection;
using Aiops.Evaluation.Detectors;
using Aiops.Evaluation.Gray;

namespace Aiops.Evaluation.Tests;

public class GrayEvaluatorTests
{
    [Fact]
    public void VerdictsAreMatchedToTheFaultWindowAndFalsePositivesGroupedIntoAlarms()
    {
        var faulty = GrayFailureGenerator.Generate(GrayFaultKind.LevelShift, 0, faulty: true, caseSeed: 3);
        var start = faulty.FaultStartIndex;

        // 1-minute points: verdicts at rows 100 and 110 (10 min apart: one alarm), 200 (90 min later:
        // a second alarm), and at start + 5 and start + 6 (in the window: one detection, 5 min late).
        var detector = new ScriptedDetector(100, 110, 200, start + 5, start + 6);
        var outcome = GrayEvaluator.Evaluate(faulty, detector);

        Assert.True(outcome.Detected);
        Assert.Equal(5 * 60_000, outcome.DelayMs);
        Assert.Equal(2, outcome.FalseAlarms);
        Assert.Equal(5, outcome.Verdicts);

        // One detail line per false alarm, naming the first verdict of each group (rows 100 and 200).
        Assert.NotNull(outcome.FalseAlarmDetails);
        Assert.Equal(2, outcome.FalseAlarmDetails.Count);
        Assert.Contains("point 100 ", outcome.FalseAlarmDetails[0], StringComparison.Ordinal);
        Assert.Contains("point 200 ", outcome.FalseAlarmDetails[1], StringComparison.Ordinal);
    }

    [Fact]
    public void RecallAndPrecisionFollowTheDocumentedDefinition()
    {
        var detected = GrayFailureGenerator.Generate(GrayFaultKind.TailLatency, 0, faulty: true, caseSeed: 1);
        var missed = GrayFailureGenerator.Generate(GrayFaultKind.TailLatency, 1, faulty: true, caseSeed: 2);
        var control = GrayFailureGenerator.Generate(GrayFaultKind.TailLatency, 0, faulty: false, caseSeed: 3);
        GrayCaseOutcome[] outcomes =
        [
            GrayEvaluator.Evaluate(detected, new ScriptedDetector(detected.FaultStartIndex + 10)),
            GrayEvaluator.Evaluate(missed, new ScriptedDetector()),
            GrayEvaluator.Evaluate(control, new ScriptedDetector(500)),
        ];

        var score = Assert.Single(GrayEvaluator.Aggregate(outcomes));

        // 1 of 2 faults detected; 1 false alarm (on the control) → precision 1/(1 + 1).
        Assert.Equal(0.5, score.Recall);
        Assert.Equal(0.5, score.Precision);
        Assert.Equal(1, score.ControlFalseAlarms);
        Assert.Equal(10.0, score.MeanDelayMinutes, 9);
    }

    [Fact]
    public void AnUnlearntDailyCycleRaisesNoLevelShiftOnItsFirstDay()
    {
        // The generator's seasonal controls (seed 1) swing ±50 % through a day the detector has not
        // learnt yet; with shifts judged only against the one-step residual scale, controls 45 and
        // 47 raised level-shift verdicts at points 86 and 96 (0.85σ and 0.62σ of the level's long-run σ).
        var shifts = new List<string>();
        var verdicts = new List<Anomaly>();
        for (var i = 0; i < 50; i++)
        {
            var control = GrayFailureGenerator.Generate(GrayFaultKind.SeasonalSpike, i, faulty: false, GrayFailureGenerator.CaseSeed(1, GrayFaultKind.SeasonalSpike, i, faulty: false));
            var detector = new SeriesDetector(control.Series, control.MetricKind);
            for (var p = 0; p < 288; p++)
            {
                verdicts.Clear();
                detector.Update(control.Points[p].TimestampMs, control.Points[p].Value, 0, verdicts);
                foreach (var v in verdicts)
                {
                    if (v.Detector == DetectorKind.LevelShift)
                    {
                        shifts.Add($"control {i} point {p}: {v.Detail}");
                    }
                }
            }
        }

        Assert.Empty(shifts);
    }

    /// <summary>Raises a verdict at fixed point indices of every series it is given.</summary>
    private sealed class ScriptedDetector(params int[] rows) : IDetectorFactory
    {
        public string Name => "scripted";

        public ISeriesDetector Create(SeriesKey series, MetricKind kind, double? capacity = null) => new Instance(series, kind, rows);

        private sealed class Instance(SeriesKey series, MetricKind kind, int[] rows) : ISeriesDetector
        {
            private int _row;

            public DetectorOutput Observe(in MetricPoint point)
            {
                var fire = Array.IndexOf(rows, _row++) >= 0;
                return new DetectorOutput(fire ? 1 : 0, fire ? Verdict(point) : null);
            }

            private Anomaly Verdict(MetricPoint point) => new()
            {
                Series = series,
                Kind = kind,
                Detector = DetectorKind.Spike,
                TimestampMs = point.TimestampMs,
                SinceMs = point.TimestampMs,
                Observed = point.Value,
                Expected = point.Value,
                Lower = point.Value,
                Upper = point.Value,
                PValue = 0,
                Score = 1,
            };
        }
    }
}
