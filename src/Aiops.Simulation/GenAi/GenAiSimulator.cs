using System.Globalization;
using Aiops.Core;

namespace Aiops.Simulation.GenAi;

/// <summary>
/// Simulates the <see cref="GenAiScenario"/>'s assistant: one CLIENT span per model call, named
/// <c>chat {model}</c> and carrying the OpenTelemetry GenAI semantic-convention attributes
/// (<c>gen_ai.operation.name</c>, <c>gen_ai.provider.name</c>, <c>gen_ai.request.model</c>,
/// <c>gen_ai.response.model</c>, <c>gen_ai.usage.input_tokens</c>, <c>gen_ai.usage.output_tokens</c>,
/// <c>gen_ai.response.time_to_first_chunk</c> in seconds, <c>gen_ai.response.finish_reasons</c>)
/// plus the application's <c>gen_ai.prompt.variant</c>. A span lasts the time to first token plus
/// the output tokens at the decode speed; a failed call (<c>error.type</c>) ends at its first token
/// with no output. Deterministic by seed; spans come out in end-time order.
/// </summary>
public sealed class GenAiSimulator
{
    private readonly GenAiScenario _scenario;

    /// <summary>Creates a simulator; the scenario is validated here.</summary>
    public GenAiSimulator(GenAiScenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        if (scenario.Minutes <= 0 || scenario.RequestsPerMinutePerVariant <= 0 || scenario.Variants.Count == 0 || scenario.TokensPerSecond <= 0)
        {
            throw new ArgumentException("GenAI scenario: minutes, request rate, decode speed and the variant list must be positive / non-empty.", nameof(scenario));
        }

        _scenario = scenario;
    }

    /// <summary>Every span of the scenario, by end time.</summary>
    public List<SpanRecord> Spans()
    {
        var s = _scenario;
        var random = new Random(s.Seed);
        var spans = new List<SpanRecord>();
        ulong nextId = 1;
        for (int v = 0; v < s.Variants.Count; v++)
        {
            var variant = s.Variants[v];
            // Poisson arrivals: exponential gaps with the variant's mean rate.
            double meanGapMs = 60_000.0 / s.RequestsPerMinutePerVariant;
            double t = s.StartMs + (-Math.Log(1 - random.NextDouble()) * meanGapMs);
            while (t < s.EndMs)
            {
                long startMs = (long)t;
                spans.Add(Call(random, variant, startMs, nextId++));
                t += -Math.Log(1 - random.NextDouble()) * meanGapMs;
            }
        }

        spans.Sort(static (a, b) => a.EndUnixNanos.CompareTo(b.EndUnixNanos));
        return spans;
    }

    private SpanRecord Call(Random random, PromptVariant variant, long startMs, ulong id)
    {
        var s = _scenario;
        double ttftMs = variant.TtftMedianMs * Math.Exp(s.TtftSigma * Normal(random));
        if (s.Fault is { } fault && startMs >= fault.StartMs && startMs < fault.EndMs)
        {
            ttftMs *= fault.Factor;
        }

        // Token counts: ±25% uniform around the mean (prompts share a template; answers vary).
        int input = (int)Math.Round(variant.InputTokensMean * (0.9 + (0.2 * random.NextDouble())));
        int output = (int)Math.Round(variant.OutputTokensMean * (0.75 + (0.5 * random.NextDouble())));
        bool failed = random.NextDouble() < s.ErrorRate;
        double durationMs = failed ? ttftMs : ttftMs + (output / s.TokensPerSecond * 1000.0);
        long startNs = startMs * 1_000_000;
        var attributes = new List<SpanAttribute>(10)
        {
            new("gen_ai.operation.name", "chat"),
            new("gen_ai.provider.name", s.Provider),
            new("gen_ai.request.model", s.Model),
            new("gen_ai.response.model", s.Model),
            new("gen_ai.usage.input_tokens", input.ToString(CultureInfo.InvariantCulture)),
            new("gen_ai.usage.output_tokens", (failed ? 0 : output).ToString(CultureInfo.InvariantCulture)),
            new("gen_ai.response.time_to_first_chunk", (ttftMs / 1000.0).ToString("0.######", CultureInfo.InvariantCulture)),
            new("gen_ai.prompt.variant", variant.Name),
        };
        attributes.Add(failed ? new SpanAttribute("error.type", "timeout") : new SpanAttribute("gen_ai.response.finish_reasons", "stop"));
        return new SpanRecord
        {
            TraceId = new UInt128((ulong)s.Seed, id),
            SpanId = id,
            Service = s.Service,
            Name = "chat " + s.Model,
            Kind = SpanKind.Client,
            StartUnixNanos = startNs,
            EndUnixNanos = startNs + (long)(durationMs * 1_000_000),
            Status = failed ? SpanStatus.Error : SpanStatus.Unset,
            Attributes = attributes,
        };
    }

    /// <summary>A standard normal draw (Box–Muller).</summary>
    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
