using System.Text.Json;

namespace Aiops.GenAI;

/// <summary>Price of one model, USD per one million tokens (the unit providers quote).</summary>
/// <param name="InputPerMillion">USD per 1,000,000 input (prompt) tokens.</param>
/// <param name="OutputPerMillion">USD per 1,000,000 output (completion) tokens.</param>
public readonly record struct ModelPrice(double InputPerMillion, double OutputPerMillion)
{
    /// <summary>Cost of one request, USD.</summary>
    public double Cost(long inputTokens, long outputTokens) =>
        ((inputTokens * InputPerMillion) + (outputTokens * OutputPerMillion)) / 1_000_000.0;
}

/// <summary>
/// Prices per model name, read from <c>models/genai/prices.json</c>
/// (<c>{"models":{"name":{"inputPerMillion":…,"outputPerMillion":…}}}</c>). Model names match
/// exactly, case-insensitive; a model without a price yields no cost point (counted), never a
/// cost of zero that would hide spend.
/// </summary>
public sealed class GenAiPriceTable
{
    private readonly Dictionary<string, ModelPrice> _prices;

    /// <summary>Creates a table from explicit prices.</summary>
    public GenAiPriceTable(IEnumerable<KeyValuePair<string, ModelPrice>> prices)
    {
        ArgumentNullException.ThrowIfNull(prices);
        _prices = new Dictionary<string, ModelPrice>(StringComparer.OrdinalIgnoreCase);
        foreach (var (model, price) in prices)
        {
            if (!double.IsFinite(price.InputPerMillion) || !double.IsFinite(price.OutputPerMillion) || price.InputPerMillion < 0 || price.OutputPerMillion < 0)
            {
                throw new ArgumentException($"price of model '{model}' must be finite and non-negative", nameof(prices));
            }

            _prices[model] = price;
        }
    }

    /// <summary>Number of priced models.</summary>
    public int Count => _prices.Count;

    /// <summary>The price of <paramref name="model"/>, if the table has one.</summary>
    public bool TryGetPrice(string model, out ModelPrice price) => _prices.TryGetValue(model, out price);

    /// <summary>Parses the JSON form; a malformed file fails with a message naming the entry.</summary>
    /// <exception cref="FormatException">The document is not a price table.</exception>
    public static GenAiPriceTable Parse(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (!doc.RootElement.TryGetProperty("models", out var models) || models.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("price table: a \"models\" object is required");
            }

            var prices = new List<KeyValuePair<string, ModelPrice>>();
            foreach (var model in models.EnumerateObject())
            {
                if (!model.Value.TryGetProperty("inputPerMillion", out var input) || input.ValueKind != JsonValueKind.Number || !input.TryGetDouble(out double i)
                    || !model.Value.TryGetProperty("outputPerMillion", out var output) || output.ValueKind != JsonValueKind.Number || !output.TryGetDouble(out double o))
                {
                    throw new FormatException($"price table: model '{model.Name}' needs numeric inputPerMillion and outputPerMillion");
                }

                prices.Add(new(model.Name, new ModelPrice(i, o)));
            }

            return new GenAiPriceTable(prices);
        }
        catch (JsonException ex)
        {
            throw new FormatException("price table is not valid JSON: " + ex.Message, ex);
        }
        catch (ArgumentException ex)
        {
            throw new FormatException("price table: " + ex.Message, ex);
        }
    }

    /// <summary>Loads <paramref name="path"/> (e.g. <c>models/genai/prices.json</c>).</summary>
    public static GenAiPriceTable Load(string path) => Parse(File.ReadAllText(path));
}
