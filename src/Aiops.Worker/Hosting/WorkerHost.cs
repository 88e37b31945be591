using Aiops.Worker.Kafka;
using Aiops.Worker.Options;
using Aiops.Worker.Processing;
using Aiops.Worker.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aiops.Worker.Hosting;

/// <summary>
/// Builds the generic host of <c>aiops run</c> (and of the worker inside <c>aiops demo</c> and
/// the integration tests). Configuration, lowest to highest precedence: <c>appsettings.json</c>
/// (beside the executable, then in the working directory), environment variables with the
/// <c>AIOPS_</c> prefix (<c>AIOPS_Kafka__GroupId</c>), the named command-line options, and
/// finally raw <c>--Section:Key=value</c> arguments.
/// </summary>
internal static class WorkerHost
{
    /// <summary>Environment variable prefix, stripped before binding.</summary>
    public const string EnvironmentPrefix = "AIOPS_";

    /// <summary>
    /// Creates the builder with configuration, validated options, logging, metrics, health checks
    /// and the consume loop. <paramref name="registerCore"/> registers the
    /// <see cref="ITelemetryDecoder"/> and <see cref="ITelemetryProcessor"/>.
    /// </summary>
    public static HostApplicationBuilder CreateBuilder(
        IEnumerable<string> configurationArgs,
        IReadOnlyDictionary<string, string?> overrides,
        Action<IServiceCollection> registerCore,
        LogLevel minimumLevel = LogLevel.Information)
    {
        ArgumentNullException.ThrowIfNull(registerCore);
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = Directory.GetCurrentDirectory(),
        });

        builder.Configuration
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true, reloadOnChange: false)
            .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true, reloadOnChange: false)
            .AddEnvironmentVariables(EnvironmentPrefix)
            .AddInMemoryCollection(overrides)
            .AddCommandLine([.. configurationArgs]);

        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        builder.Logging.SetMinimumLevel(minimumLevel);

        AddWorker(builder.Services, builder.Configuration);
        registerCore(builder.Services);
        return builder;
    }

    /// <summary>Registers options (validated at start), telemetry, Kafka clients and the hosted services.</summary>
    public static void AddWorker(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<KafkaOptions>().Bind(configuration.GetSection(KafkaOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<KafkaOptions>>(new SectionValidator<KafkaOptions>(new KafkaOptionsValidator(), KafkaOptions.Section));
        services.AddOptions<CheckpointOptions>().Bind(configuration.GetSection(CheckpointOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<CheckpointOptions>>(new SectionValidator<CheckpointOptions>(new CheckpointOptionsValidator(), CheckpointOptions.Section));
        services.AddSingleton<IValidateOptions<CheckpointOptions>, CheckpointStoreValidator>();
        services.AddOptions<RepartitionOptions>().Bind(configuration.GetSection(RepartitionOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RepartitionOptions>, RepartitionOptionsValidator>();
        services.AddOptions<KafkaSecurityOptions>().Bind(configuration.GetSection(KafkaSecurityOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<KafkaSecurityOptions>, KafkaSecurityOptionsValidator>();
        services.AddOptions<LimitsOptions>().Bind(configuration.GetSection(LimitsOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LimitsOptions>>(new SectionValidator<LimitsOptions>(new LimitsOptionsValidator(), LimitsOptions.Section));
        services.AddOptions<MetricsEndpointOptions>().Bind(configuration.GetSection(MetricsEndpointOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MetricsEndpointOptions>>(new SectionValidator<MetricsEndpointOptions>(new MetricsEndpointOptionsValidator(), MetricsEndpointOptions.Section));
        SloOptionsSetup.Add(services, configuration);
        services.Configure<HostOptions>(o =>
        {
            // Long enough for a batch to finish, its incidents to flush and the offsets to commit.
            o.ShutdownTimeout = TimeSpan.FromSeconds(30);
            o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.StopHost;
        });

        Outbound.OutboundServices.Add(services, configuration);
        services.AddSingleton<WorkerMetrics>();
        services.AddSingleton<WorkerHealth>();
        services.AddHealthChecks().AddCheck<WorkerHealth>("consumer");
        services.AddSingleton<KafkaClients>();
        services.AddSingleton<InternalTopics>();
        services.AddSingleton<RecordHandler>();
        services.AddSingleton<StateCheckpointer>();
        services.AddSingleton<IncidentLedger>();
        services.AddSingleton<IPartitionStateStore>(static sp => PartitionStateStores.Create(sp));
        services.AddSingleton<PartitionStates>();

        // Replaced by the core's registration; a host without one cannot use Checkpoint:Scope=Partition.
        services.AddSingleton<Func<ITelemetryProcessor>>(static _ => static () => throw new InvalidOperationException("Checkpoint:Scope=Partition needs a processor factory (Func<ITelemetryProcessor>) registered with the core services."));
        services.AddSingleton<MetricsServer>();
        services.AddHostedService(static sp => sp.GetRequiredService<MetricsServer>());
        services.AddHostedService<StreamWorker>();
    }

    /// <summary>
    /// Starts <paramref name="host"/>, turning an options validation failure into a readable
    /// message on standard error and exit code 2 instead of a stack trace.
    /// </summary>
    public static async Task<int> RunAsync(IHost host, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync(FormatValidationFailure([ex])).ConfigureAwait(false);
            return 2;
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(static e => e is OptionsValidationException))
        {
            await Console.Error.WriteLineAsync(FormatValidationFailure(ex.InnerExceptions.Cast<OptionsValidationException>())).ConfigureAwait(false);
            return 2;
        }

        await host.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        return Environment.ExitCode;
    }

    /// <summary>One line per failed setting, each naming the setting.</summary>
    public static string FormatValidationFailure(IEnumerable<OptionsValidationException> exceptions)
    {
        ArgumentNullException.ThrowIfNull(exceptions);
        var lines = exceptions.SelectMany(static e => e.Failures).Select(static f => "  - " + f);
        return "Invalid configuration:" + Environment.NewLine + string.Join(Environment.NewLine, lines);
    }
}
