using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Aiops.Simulation;
using Aiops.Worker.Hosting;
using Aiops.Worker.Kafka;
using Aiops.Worker.Processing;
using Aiops.Worker.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Aiops.Worker.Demo;

/// <summary>What <c>aiops demo</c> simulates.</summary>
/// <param name="Seed">Seed of the scenario (fault target, traffic noise).</param>
/// <param name="DurationMinutes">Simulated length; the fault starts <see cref="FaultMinutes"/> + <see cref="RecoveryMinutes"/> before the end.</param>
/// <param name="Fault">Fault kind (snake_case name, e.g. <c>cpu_saturation</c>).</param>
/// <param name="MinutesPerSecond">Simulated minutes produced per wall-clock second.</param>
internal sealed record DemoSettings(int Seed, int DurationMinutes, string Fault, double MinutesPerSecond)
{
    /// <summary>Fault length: 20 simulated minutes, long enough for a few one-minute RED buckets to confirm it.</summary>
    public const int FaultMinutes = 20;

    /// <summary>Recovery after the fault: 15 simulated minutes, so the incident can resolve before the end.</summary>
    public const int RecoveryMinutes = 15;

    /// <summary>Shortest simulated duration: one hour of warm-up for the baselines plus the fault and recovery.</summary>
    public const int MinDurationMinutes = 60 + FaultMinutes + RecoveryMinutes;
}

/// <summary>
/// <c>aiops demo</c>: embedded broker, simulator producing OTLP protobuf, the real worker consuming
/// it, and a console view of progress and incidents as a downstream consumer of
/// <c>aiops.incidents</c> sees them.
/// </summary>
internal static class DemoRunner
{
    public static async Task<int> RunAsync(DemoSettings settings, CancellationToken cancellationToken)
    {
        var wall = Stopwatch.StartNew();
        var kind = FaultKinds.Parse(settings.Fault);
        var suite = FaultSuite.Standard(settings.Seed, FaultKinds.All.Count, new SuiteOptions
        {
            WarmUpMs = (settings.DurationMinutes - DemoSettings.FaultMinutes - DemoSettings.RecoveryMinutes) * 60_000L,
            FaultMs = DemoSettings.FaultMinutes * 60_000L,
            RecoveryMs = DemoSettings.RecoveryMinutes * 60_000L,
        });
        var scenario = suite.First(c => c.Kind == kind).Scenario;
        var simulator = new ShopSimulator(scenario);
        var truth = simulator.GroundTruth;

        AnsiConsole.Write(new Rule("[bold]aiops demo[/]").LeftJustified());
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "Simulated shop: {0} services, {1} simulated minutes, seed {2}.", ShopSimulator.ServiceNames.Count, settings.DurationMinutes, settings.Seed);
        foreach (var f in truth.Faults)
        {
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "Injected fault [yellow]{0}[/] on [yellow]{1}[/] from minute {2} to {3}.",
                Markup.Escape(f.Kind), Markup.Escape(f.RootCause), (f.StartMs - truth.StartMs) / 60_000, (f.EndMs - truth.StartMs) / 60_000);
        }

        using var broker = EmbeddedBroker.Start();
        // One partition per topic keeps the simulated stream in event-time order end to end.
        await broker.CreateTopicsAsync([("otlp_metrics", 1), ("otlp_spans", 1), ("aiops.incidents", 1), ("aiops.deadletter", 1)]).ConfigureAwait(false);
        AnsiConsole.MarkupLine("Embedded Kafka (librdkafka mock cluster, {0} brokers) at [grey]{1}[/].", broker.BrokerCount, broker.BootstrapServers);

        var overrides = new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = broker.BootstrapServers,
            ["Kafka:GroupId"] = "aiops-demo",
            ["Kafka:CommitIntervalMs"] = "200",
            ["Checkpoint:Enabled"] = "false",
            ["Metrics:Enabled"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        using var host = WorkerHost.CreateBuilder([], overrides, CoreServices.Register, LogLevel.Warning).Build();
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        var metrics = host.Services.GetRequiredService<WorkerMetrics>();

        var toPrint = new ConcurrentQueue<IncidentMessage>();
        TimeSpan? firstIncident = null;
        using var watcher = new IncidentWatcher(broker.BootstrapServers, "aiops.incidents", m =>
        {
            if (m.Event == "open" && firstIncident is null)
            {
                firstIncident = wall.Elapsed;
            }

            toPrint.Enqueue(m);
        });
        using var producer = new SimulationProducer(broker.BootstrapServers, "otlp_metrics", "otlp_spans");

        var simulatedMinutes = 0;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async ctx =>
            {
                var simTask = ctx.AddTask("simulated minutes produced", maxValue: settings.DurationMinutes);
                var workTask = ctx.AddTask("records processed by the worker", maxValue: 1);
                // Produce only once the worker's consumer owns its partitions: the mock cluster keeps
                // 5 MiB per partition, so records produced long before the first fetch may be gone.
                var assignDeadline = wall.Elapsed + TimeSpan.FromSeconds(30);
                while (metrics.AssignedPartitions < 2 && wall.Elapsed < assignDeadline)
                {
                    await Task.Delay(50, cancellationToken).ConfigureAwait(false);
                }

                var produce = producer.ProduceAsync(simulator, settings.MinutesPerSecond, _ => Interlocked.Increment(ref simulatedMinutes), cancellationToken);
                var caughtUpDeadline = TimeSpan.MaxValue;
                while (true)
                {
                    simTask.Value = Volatile.Read(ref simulatedMinutes);
                    workTask.MaxValue = Math.Max(1, producer.Records);
                    workTask.Value = Math.Min(metrics.Records, workTask.MaxValue);
                    workTask.Description = string.Create(CultureInfo.InvariantCulture, $"worker: {metrics.Points:N0} points, {metrics.Spans:N0} spans, {metrics.IncidentEvents} incident events");
                    while (toPrint.TryDequeue(out var message))
                    {
                        Print(message, truth);
                    }

                    if (produce.IsCompleted)
                    {
                        await produce.ConfigureAwait(false);
                        if (caughtUpDeadline == TimeSpan.MaxValue)
                        {
                            caughtUpDeadline = wall.Elapsed + TimeSpan.FromSeconds(100);
                        }

                        // Done when the worker's committed offset has reached the high-water mark the
                        // producer made on every partition: every record processed, and since the worker
                        // commits only after producing and flushing the batch's incidents, those are out.
                        if (CaughtUp(producer, metrics))
                        {
                            await Task.Delay(1_000, cancellationToken).ConfigureAwait(false);
                            while (toPrint.TryDequeue(out var message))
                            {
                                Print(message, truth);
                            }

                            workTask.Value = workTask.MaxValue;
                            break;
                        }

                        if (wall.Elapsed > caughtUpDeadline)
                        {
                            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "[red]The worker did not commit every produced record within 100 s ({0:N0} of {1:N0} read).[/]", metrics.Records, producer.Records);
                            break;
                        }
                    }

                    await Task.Delay(100, cancellationToken).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);

        await host.StopAsync(cancellationToken).ConfigureAwait(false);
        while (toPrint.TryDequeue(out var message))
        {
            Print(message, truth);
        }

        return Summarise(truth, watcher.Messages, firstIncident, wall.Elapsed, metrics);
    }

    /// <summary>True when, on every partition the producer wrote, the worker has committed up to the producer's high-water mark.</summary>
    private static bool CaughtUp(SimulationProducer producer, WorkerMetrics metrics)
    {
        foreach (var ((topic, partition), end) in producer.EndOffsets)
        {
            if (metrics.CommittedOffsetOf(topic, partition) < end)
            {
                return false;
            }
        }

        return producer.EndOffsets.Count > 0;
    }

    private static void Print(IncidentMessage m, GroundTruth truth)
    {
        if (m.Event != "open")
        {
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "[grey]incident {0} {1} at minute {2}[/]", Markup.Escape(m.IncidentId), m.Event, (m.EventTimeMs - truth.StartMs) / 60_000);
            return;
        }

        var causes = new Table().Border(TableBorder.Simple).AddColumn("rank").AddColumn("root cause").AddColumn("score").AddColumn("evidence");
        foreach (var c in m.RootCauses.Take(3))
        {
            causes.AddRow(
                c.Rank.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(c.Service),
                c.Score.ToString("0.000", CultureInfo.InvariantCulture),
                Markup.Escape(c.Evidence.Count > 0 ? c.Evidence[0] : "-"));
        }

        var rows = new List<Spectre.Console.Rendering.IRenderable>
        {
            new Markup("[bold]symptom:[/] " + Markup.Escape(m.Symptom)),
            causes,
        };
        if (m.RemediationHint is { } hint)
        {
            rows.Add(new Markup("[bold]hint:[/] " + Markup.Escape(hint)));
        }

        AnsiConsole.Write(new Panel(new Rows(rows))
            .Header(string.Create(CultureInfo.InvariantCulture, $" incident {m.IncidentId} opened at simulated minute {(m.OpenedAtMs - truth.StartMs) / 60_000} "))
            .BorderColor(Color.Red));
    }

    /// <summary>Prints faults injected vs found; returns 0 when every injected root cause was ranked first.</summary>
    internal static int Summarise(GroundTruth truth, IReadOnlyList<IncidentMessage> messages, TimeSpan? firstIncident, TimeSpan elapsed, WorkerMetrics metrics)
    {
        var latest = new Dictionary<string, IncidentMessage>(StringComparer.Ordinal);
        foreach (var m in messages)
        {
            if (m.Event != "resolve" || !latest.ContainsKey(m.IncidentId))
            {
                latest[m.IncidentId] = m;
            }
        }

        var table = new Table().AddColumn("fault").AddColumn("root cause").AddColumn("incident").AddColumn("rank of root cause").AddColumn("detected after");
        var allFirst = truth.Faults.Count > 0;
        var matched = new HashSet<string>(StringComparer.Ordinal);
        foreach (var fault in truth.Faults)
        {
            var (incident, rank) = DemoScoring.BestMatch(fault, messages);
            if (incident is not null)
            {
                matched.Add(incident.IncidentId);
            }

            allFirst &= rank == 1;
            table.AddRow(
                Markup.Escape(fault.Kind),
                Markup.Escape(fault.RootCause),
                Markup.Escape(incident?.IncidentId ?? "none"),
                rank is { } r ? (r == 1 ? "[green]1[/]" : "[yellow]" + r.ToString(CultureInfo.InvariantCulture) + "[/]") : "[red]not ranked[/]",
                incident is null ? "-" : string.Create(CultureInfo.InvariantCulture, $"{(incident.OpenedAtMs - fault.StartMs) / 60_000.0:0.#} simulated min"));
        }

        AnsiConsole.Write(new Rule("[bold]summary[/]").LeftJustified());
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "Faults injected: {0}; found with the root cause ranked first: {1}; other incidents: {2}.",
            truth.Faults.Count, allFirst ? truth.Faults.Count : truth.Faults.Count(f => DemoScoring.BestMatch(f, messages).Rank == 1), latest.Count - matched.Count);
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "Worker: {0:N0} records, {1:N0} points, {2:N0} spans, {3} dead letters. Wall time {4:0.0} s{5}.",
            metrics.Records, metrics.Points, metrics.Spans, metrics.DeadLetters, elapsed.TotalSeconds,
            firstIncident is { } t ? string.Create(CultureInfo.InvariantCulture, $", first incident after {t.TotalSeconds:0.0} s") : ", no incident");
        return allFirst ? 0 : 1;
    }
}

/// <summary>Matching of incidents to injected faults, shared by the demo summary and the tests.</summary>
internal static class DemoScoring
{
    /// <summary>An incident counts for a fault when it opened between 5 simulated minutes before the fault and 10 after its end.</summary>
    private const long MatchBeforeMs = 5 * 60_000L;
    private const long MatchAfterMs = 10 * 60_000L;

    /// <summary>
    /// The incident in the fault's window whose events (open or any update) rank the fault's root
    /// cause best, and that rank (null when none ranks it).
    /// </summary>
    public static (IncidentMessage? Incident, int? Rank) BestMatch(GroundTruthFault fault, IEnumerable<IncidentMessage> incidents)
    {
        IncidentMessage? best = null;
        int? bestRank = null;
        foreach (var incident in incidents)
        {
            if (incident.OpenedAtMs < fault.StartMs - MatchBeforeMs || incident.OpenedAtMs > fault.EndMs + MatchAfterMs)
            {
                continue;
            }

            best ??= incident;
            foreach (var cause in incident.RootCauses)
            {
                if (string.Equals(cause.Service, fault.RootCause, StringComparison.Ordinal) && (bestRank is null || cause.Rank < bestRank))
                {
                    best = incident;
                    bestRank = cause.Rank;
                }
            }
        }

        return (best, bestRank);
    }
}
