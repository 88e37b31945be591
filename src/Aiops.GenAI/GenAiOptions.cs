namespace Aiops.GenAI;

/// <summary>Configuration of the GenAI signal aggregator (section <c>GenAI</c>).</summary>
public sealed class GenAiOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "GenAI";

    /// <summary>
    /// Span attribute naming the prompt variant (an A/B arm, a template version). Set by the
    /// application; spans without it aggregate under their model only.
    /// </summary>
    public string VariantAttribute { get; set; } = "gen_ai.prompt.variant";

    /// <summary>
    /// Span attribute carrying the time to first token in seconds: the GenAI semantic conventions'
    /// <c>gen_ai.response.time_to_first_chunk</c> (time from issuing the request to the first
    /// chunk of the streamed response, seconds; development status). Configurable because older
    /// instrumentations put it elsewhere.
    /// </summary>
    public string TimeToFirstTokenAttribute { get; set; } = "gen_ai.response.time_to_first_chunk";

    /// <summary>
    /// The price table (USD per million tokens per model), relative to the working directory or
    /// the executable's directory. Without it the cost series are not emitted (counted as unpriced).
    /// </summary>
    public string PriceTablePath { get; set; } = "models/genai/prices.json";

    /// <summary>
    /// Event-time window of one emitted point, ms. One minute matches the detectors' usual metric
    /// interval and holds enough requests of an LLM endpoint (typically 1–100/s) for a P95.
    /// </summary>
    public long WindowMs { get; set; } = 60_000;

    /// <summary>How long after a window's end (in event time) spans may still arrive for it, ms.</summary>
    public long AllowedLatenessMs { get; set; } = 10_000;

    /// <summary>Most (service, model, variant) series tracked; beyond it new ones are counted and dropped.</summary>
    public int MaxSeries { get; set; } = 10_000;

    /// <summary>Throws when a setting is out of range, naming it.</summary>
    public void Validate()
    {
        if (WindowMs <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(WindowMs), WindowMs, "GenAI:WindowMs must be positive.");
        }

        if (AllowedLatenessMs < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(AllowedLatenessMs), AllowedLatenessMs, "GenAI:AllowedLatenessMs must not be negative.");
        }

        if (MaxSeries <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxSeries), MaxSeries, "GenAI:MaxSeries must be positive.");
        }

        if (string.IsNullOrEmpty(VariantAttribute) || string.IsNullOrEmpty(TimeToFirstTokenAttribute))
        {
            throw new ArgumentException("GenAI:VariantAttribute and GenAI:TimeToFirstTokenAttribute must not be empty.");
        }
    }
}
