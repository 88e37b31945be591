using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Aiops.Simulation;

namespace Aiops.Evaluation;

/// <summary>The <c>eval rca</c> subcommand: root-cause ranking accuracy on the simulator's standard suite.</summary>
public static class RcaCommand
{
    /// <summary>
    /// Builds <c>rca [--seed N] [--cases N] [--fault-free-days D] [--threads N] [--out dir] [--verbose] [--only names] [--write-datasets dir]</c>.
    /// </summary>
    public static Command Create()
    {
        var seed = new Option<int>("--seed")
        {
            Description = "Seed of the suite: targets, fault starts, intensities and every simulated draw.",
            DefaultValueFactory = _ => 1,
        };
        var cases = new Option<int>("--cases")
        {
            Description = "Fault cases (cycling through the 7 fault kinds); the standard suite is 56.",
            DefaultValueFactory = _ => 56,
        };
        var faultFreeDays = new Option<double>("--fault-free-days")
        {
            Description = "Simulated days of fault-free traffic run beside the cases (target: no incident); 0 skips it.",
            DefaultValueFactory = _ => 7,
        };
        var warmUpHours = new Option<double>("--warm-up-hours")
        {
            Description = "Fault-free hours before each fault, for the baselines to learn.",
            DefaultValueFactory = _ => 6,
        };
        var threads = new Option<int>("--threads")
        {
            Description = "Cases run in parallel (default: all cores).",
            DefaultValueFactory = _ => Environment.ProcessorCount,
        };
        var output = new Option<string?>("--out")
        {
            Description = "Folder for rca-summary.txt, rca-cases.txt and rca-results.json.",
        };
        var verbose = new Option<bool>("--verbose")
        {
            Description = "Per case: the scored incident's top five with evidence, and the fate of every verdict on the faulty nodes (to rca-diagnostics.txt with --out, else stdout).",
        };
        var only = new Option<string?>("--only")
        {
            Description = "Run only the cases whose name contains one of these comma-separated strings (e.g. 38-,packet_loss).",
        };
        var datasets = new Option<string?>("--write-datasets")
        {
            Description = "Instead of evaluating, write the small committed datasets (fault-free, slow database, bad replica) under this folder.",
        };

        var command = new Command("rca", "Run the simulator's fault suite through the pipeline and print AC@1, AC@3, Avg@5 and time to first incident per fault kind.")
        {
            seed, cases, faultFreeDays, warmUpHours, threads, output, verbose, only, datasets,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            var stdout = parseResult.InvocationConfiguration.Output;
            var stderr = parseResult.InvocationConfiguration.Error;
            try
            {
                if (parseResult.GetValue(datasets) is { } datasetRoot)
                {
                    foreach (var summary in RcaDatasets.WriteStandard(datasetRoot))
                    {
                        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{summary.Directory}: {summary.Spans} spans, {summary.Metrics} metric points"));
                    }

                    return Task.FromResult(0);
                }

                var caseCount = parseResult.GetValue(cases);
                var hours = parseResult.GetValue(warmUpHours);
                var days = parseResult.GetValue(faultFreeDays);
                if (caseCount < 1 || !(hours > 0) || days < 0)
                {
                    stderr.WriteLine("eval rca: --cases must be ≥ 1, --warm-up-hours > 0 and --fault-free-days ≥ 0.");
                    return Task.FromResult(1);
                }

                var options = new RcaEvaluationOptions
                {
                    Seed = parseResult.GetValue(seed),
                    Cases = caseCount,
                    FaultFreeDays = days,
                    Parallelism = Math.Max(1, parseResult.GetValue(threads)),
                    Suite = new SuiteOptions { WarmUpMs = (long)(hours * 3_600_000) },
                    Verbose = parseResult.GetValue(verbose),
                    Only = parseResult.GetValue(only),
                };
                var done = 0;
                var total = caseCount + (days > 0 ? 1 : 0);
                var report = RcaEvaluation.Run(
                    options,
                    name =>
                    {
                        var n = Interlocked.Increment(ref done);
                        stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{n}/{total}] {name}"));
                    },
                    cancellationToken);
                stdout.Write(report.Format());
                if (options.Verbose && parseResult.GetValue(output) is null)
                {
                    stdout.Write(report.FormatDiagnostics());
                }

                if (parseResult.GetValue(output) is { } folder)
                {
                    Directory.CreateDirectory(folder);
                    if (options.Verbose)
                    {
                        File.WriteAllText(Path.Combine(folder, "rca-diagnostics.txt"), report.FormatDiagnostics());
                    }

                    File.WriteAllText(Path.Combine(folder, "rca-summary.txt"), report.Format());
                    File.WriteAllText(Path.Combine(folder, "rca-cases.txt"), report.FormatCases());
                    File.WriteAllText(Path.Combine(folder, "rca-results.json"), JsonSerializer.Serialize(report, RcaJson.Options));
                }

                return Task.FromResult(0);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                stderr.WriteLine("eval rca: " + e.Message);
                return Task.FromResult(1);
            }
        });
        return command;
    }
}

/// <summary>JSON settings of the RCA result files.</summary>
internal static class RcaJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
    };
}

/// <summary>
/// The small datasets committed under <c>datasets/</c>: a fault-free hour, a slow database and one
/// bad replica, each with its ground truth, regenerated by <c>eval rca --write-datasets datasets</c>.
/// </summary>
public static class RcaDatasets
{
    /// <summary>
    /// Traffic of the committed datasets: 4 sampled traces per minute at the peak (≈ 50 spans per
    /// minute) keeps the three datasets under 5 MB together (a span line is ≈ 330 bytes); they
    /// show the formats and replay, the figures come from <c>eval rca</c> at full traffic.
    /// </summary>
    public const double TracesPerMinute = 4;

    /// <summary>The standard datasets: name → scenario.</summary>
    public static IReadOnlyList<(string Name, ScenarioOptions Scenario)> Standard()
    {
        var start = ScenarioOptions.DefaultStartMs + (8 * 3_600_000L);
        const long Hour = 3_600_000;
        return
        [
            ("sim-fault-free", new ScenarioOptions { Seed = 101, StartMs = start, DurationMs = Hour, TracesPerMinute = TracesPerMinute }),
            ("sim-slow-database", new ScenarioOptions
            {
                Seed = 102,
                StartMs = start,
                DurationMs = (3 * Hour) / 2,
                TracesPerMinute = TracesPerMinute,
                Faults = [new FaultSpec("f1", FaultKind.SlowDatabase, ShopSimulator.DatabaseNode, start + Hour, start + Hour + (20 * 60_000))],
            }),
            ("sim-bad-replica", new ScenarioOptions
            {
                Seed = 103,
                StartMs = start,
                DurationMs = (3 * Hour) / 2,
                TracesPerMinute = TracesPerMinute,
                Faults = [new FaultSpec("f1", FaultKind.BadReplica, "cart", start + Hour, start + Hour + (20 * 60_000), Instance: "cart-2")],
            }),
        ];
    }

    /// <summary>Writes every standard dataset under <paramref name="root"/>.</summary>
    public static IReadOnlyList<DatasetSummary> WriteStandard(string root)
    {
        var written = new List<DatasetSummary>();
        foreach (var (name, scenario) in Standard())
        {
            written.Add(SimulationDataset.Write(scenario, Path.Combine(root, name)));
        }

        return written;
    }
}
