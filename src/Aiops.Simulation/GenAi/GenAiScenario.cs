namespace Aiops.Simulation.GenAi;

/// <summary>One prompt variant of the simulated assistant: how its requests look to the model.</summary>
/// <param name="Name">Value of the variant attribute (<c>gen_ai.prompt.variant</c>).</param>
/// <param name="TtftMedianMs">Median time to first token, ms: grows with the prompt (prefill is linear in input tokens).</param>
/// <param name="InputTokensMean">Mean prompt size, tokens.</param>
/// <param name="OutputTokensMean">Mean completion size, tokens.</param>
public sealed record PromptVariant(string Name, double TtftMedianMs, int InputTokensMean, int OutputTokensMean);

/// <summary>A planted time-to-first-token regression: every request of the model slows its first token by <see cref="Factor"/>.</summary>
/// <param name="StartMs">Fault start, Unix ms.</param>
/// <param name="EndMs">Fault end (exclusive), Unix ms.</param>
/// <param name="Factor">Multiplier of the time to first token (2.5: a provider-side prefill slowdown).</param>
public sealed record TtftRegression(long StartMs, long EndMs, double Factor);

/// <summary>
/// What <see cref="GenAiSimulator"/> simulates: an LLM-backed <c>assistant</c> service calling one
/// model with two prompt variants in an A/B split, streaming its answers. Defaults: a compact
/// prompt (<c>concise</c>: 600 input tokens, TTFT median 350 ms) against a few-shot prompt
/// (<c>few-shot</c>: 1,800 input tokens, TTFT median 500 ms, longer answers): the few-shot variant
/// is slower and costlier, by construction. 150 simulated minutes, 10 requests a minute per variant.
/// </summary>
public sealed class GenAiScenario
{
    /// <summary>Seed of every random draw: the same seed writes the same spans.</summary>
    public int Seed { get; set; } = 11;

    /// <summary>First simulated instant, Unix ms (the shop simulator's origin, a Monday 00:00 UTC).</summary>
    public long StartMs { get; set; } = ScenarioOptions.DefaultStartMs;

    /// <summary>Simulated minutes.</summary>
    public int Minutes { get; set; } = 150;

    /// <summary>Requests per minute of each variant (Poisson arrivals).</summary>
    public double RequestsPerMinutePerVariant { get; set; } = 10;

    /// <summary>The service making the calls.</summary>
    public string Service { get; set; } = "assistant";

    /// <summary>The model called (priced in <c>models/genai/prices.json</c>).</summary>
    public string Model { get; set; } = "sim-large";

    /// <summary>The provider (<c>gen_ai.provider.name</c>).</summary>
    public string Provider { get; set; } = "openai";

    /// <summary>Output tokens per second once streaming has started (decode speed).</summary>
    public double TokensPerSecond { get; set; } = 60;

    /// <summary>Spread of the time to first token: log-normal σ. 0.15 keeps the minute P95 of ~10 requests steady enough to learn.</summary>
    public double TtftSigma { get; set; } = 0.15;

    /// <summary>Share of requests that fail (rate limits, timeouts).</summary>
    public double ErrorRate { get; set; } = 0.005;

    /// <summary>The variants, in the order they are written.</summary>
    public IList<PromptVariant> Variants { get; set; } =
    [
        new("concise", 350, 600, 180),
        new("few-shot", 500, 1_800, 240),
    ];

    /// <summary>The planted regression (null: fault-free). Default: ×2.5 from minute 110 to 130.</summary>
    public TtftRegression? Fault { get; set; } = new(ScenarioOptions.DefaultStartMs + (110 * 60_000L), ScenarioOptions.DefaultStartMs + (130 * 60_000L), 2.5);

    /// <summary>End of the simulated window (exclusive), Unix ms.</summary>
    public long EndMs => StartMs + (Minutes * 60_000L);
}
