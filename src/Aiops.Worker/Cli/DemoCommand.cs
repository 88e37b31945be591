using System.CommandLine;
using Aiops.Simulation;
using Aiops.Worker.Demo;

namespace Aiops.Worker.Cli;

/// <summary><c>aiops demo</c>: the first command of the README; needs nothing but the .NET SDK.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var seed = new Option<int>("--seed") { Description = "Seed of the scenario (fault target, traffic noise).", DefaultValueFactory = static _ => 7 };
        var duration = new Option<int>("--duration") { Description = $"Simulated minutes (at least {DemoSettings.MinDurationMinutes}); the fault sits {DemoSettings.FaultMinutes + DemoSettings.RecoveryMinutes} minutes before the end.", DefaultValueFactory = static _ => 120 };
        var fault = new Option<string>("--fault") { Description = "Fault to inject: " + string.Join(", ", FaultKinds.All.Select(FaultKinds.Name)) + ".", DefaultValueFactory = static _ => "cpu_saturation" };
        var speed = new Option<double>("--speed") { Description = "Simulated minutes per wall-clock second.", DefaultValueFactory = static _ => 60 };
        duration.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < DemoSettings.MinDurationMinutes)
            {
                r.AddError($"--duration must be at least {DemoSettings.MinDurationMinutes} simulated minutes.");
            }
        });
        fault.Validators.Add(r =>
        {
            var name = r.GetValueOrDefault<string>();
            if (!FaultKinds.All.Any(k => FaultKinds.Name(k) == name))
            {
                r.AddError($"--fault '{name}' is not one of: {string.Join(", ", FaultKinds.All.Select(FaultKinds.Name))}.");
            }
        });
        speed.Validators.Add(r =>
        {
            if (!(r.GetValueOrDefault<double>() > 0))
            {
                r.AddError("--speed must be positive.");
            }
        });
        var command = new Command("demo", "Start an embedded Kafka broker, a simulated shop with an injected fault producing OTLP, and the worker; show incidents as they open.")
        {
            seed, duration, fault, speed,
        };
        command.SetAction((parse, cancellationToken) => DemoRunner.RunAsync(
            new DemoSettings(parse.GetValue(seed), parse.GetValue(duration), parse.GetValue(fault)!, parse.GetValue(speed)),
            cancellationToken));
        return command;
    }
}
