using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Aiops.Evaluation.Detectors;

namespace Aiops.Evaluation.Gray;

/// <summary>The <c>eval gray</c> subcommand.</summary>
internal static class GrayCommand
{
    /// <summary>Builds <c>gray [--seed N] [--cases N] [--threads N] [--report file]</c>.</summary>
    public static Command Create(IDetectorFactory? detector)
    {
        var seed = new Option<int>("--seed")
        {
            Description = "Seed of the generator; the same seed gives the same cases.",
            DefaultValueFactory = _ => 1,
        };
        var cases = new Option<int>("--cases")
        {
            Description = "Faulty cases per fault kind (as many fault-free controls are added).",
            DefaultValueFactory = _ => 50,
        };
        var threads = new Option<int>("--threads")
        {
            Description = "Cases evaluated in parallel (default: all cores).",
            DefaultValueFactory = _ => Environment.ProcessorCount,
        };
        var report = new Option<string?>("--report")
        {
            Description = "Also write the report to this file.",
        };
        var listFalseAlarms = new Option<bool>("--list-false-alarms")
        {
            Description = "Also print every false alarm: case, point index, detector and its evidence.",
        };
        var profiles = EvalCommand.ProfilesOption();
        var command = new Command("gray", "Generate series with planted gray failures (leak, +0.3 pp errors, +20 % P99, level shift, seasonal spike) and controls; report recall, precision and delay per kind.")
        {
            seed, cases, threads, report, profiles, listFalseAlarms,
        };
        cases.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 1)
            {
                result.AddError("--cases must be at least 1");
            }
        });
        command.SetAction(parseResult =>
        {
            IDetectorFactory factory;
            try
            {
                factory = EvalCommand.Resolve(detector, parseResult.GetValue(profiles));
            }
            catch (Aiops.Detection.ProfileValidationException e)
            {
                parseResult.InvocationConfiguration.Error.WriteLine("eval gray: " + e.Message);
                return 1;
            }

            var n = parseResult.GetValue(cases);
            var s = parseResult.GetValue(seed);
            var clock = Stopwatch.StartNew();
            var generated = GrayFailureGenerator.Generate(s, n);
            var (scores, outcomes) = GrayEvaluator.Evaluate(generated, factory, parseResult.GetValue(threads));
            long points = 0;
            foreach (var o in outcomes)
            {
                points += o.Case.Points.Length;
            }

            var header = string.Create(CultureInfo.InvariantCulture,
                $"Gray failures: detector '{factory.Name}', seed {s}, {n} faulty cases + {n} controls per kind, {points} points, {clock.Elapsed.TotalSeconds:F1} s");
            var text = GrayEvaluator.Format(header, scores);
            if (parseResult.GetValue(listFalseAlarms))
            {
                var sb = new System.Text.StringBuilder(text);
                foreach (var o in outcomes)
                {
                    foreach (var line in o.FalseAlarmDetails ?? [])
                    {
                        sb.AppendLine("false alarm: " + line);
                    }
                }

                text = sb.ToString();
            }

            parseResult.InvocationConfiguration.Output.Write(text);
            var path = parseResult.GetValue(report);
            if (path is not null)
            {
                File.WriteAllText(path, text);
            }

            return 0;
        });
        return command;
    }
}
