using System.Text.Json;

namespace Aiops.Evaluation.Nab;

/// <summary>
/// One NAB application profile: the cost matrix that weighs a detected window, a missed window
/// and a false positive row (NAB's <c>config/profiles.json</c>; <c>tnWeight</c> is read by no
/// part of NAB's scoring and is ignored here too).
/// </summary>
/// <param name="Name">Profile name, e.g. <c>standard</c>.</param>
/// <param name="TpWeight">Reward for a window detected at its left edge (1.0 in all three published profiles).</param>
/// <param name="FpWeight">Cost of one false-positive row far from any window (0.11 standard, 0.22 low-FP).</param>
/// <param name="FnWeight">Cost of a missed window (1.0, or 2.0 in reward_low_FN_rate).</param>
internal sealed record NabProfile(string Name, double TpWeight, double FpWeight, double FnWeight)
{
    /// <summary>NAB's three published profiles, in the order NAB reports them.</summary>
    public static IReadOnlyList<NabProfile> Published { get; } =
    [
        new("standard", 1.0, 0.11, 1.0),
        new("reward_low_FP_rate", 1.0, 0.22, 1.0),
        new("reward_low_FN_rate", 1.0, 0.11, 2.0),
    ];

    /// <summary>
    /// Reads NAB's <c>profiles.json</c>: <c>{"name": {"CostMatrix": {"tpWeight": .., "fpWeight": .., "fnWeight": ..}}}</c>.
    /// </summary>
    /// <exception cref="InvalidDataException">The file does not have that shape or a weight is negative.</exception>
    public static IReadOnlyList<NabProfile> Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException("profiles: expected a JSON object of profile name -> {\"CostMatrix\": {...}}");
        }

        var profiles = new List<NabProfile>();
        foreach (var entry in doc.RootElement.EnumerateObject())
        {
            if (!entry.Value.TryGetProperty("CostMatrix", out var matrix) || matrix.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"profiles: profile '{entry.Name}' has no \"CostMatrix\" object");
            }

            profiles.Add(new NabProfile(
                entry.Name,
                Weight(entry.Name, matrix, "tpWeight"),
                Weight(entry.Name, matrix, "fpWeight"),
                Weight(entry.Name, matrix, "fnWeight")));
        }

        if (profiles.Count == 0)
        {
            throw new InvalidDataException("profiles: no profile found");
        }

        return profiles;
    }

    private static double Weight(string profile, JsonElement matrix, string name)
    {
        if (!matrix.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Number)
        {
            throw new InvalidDataException($"profiles: profile '{profile}' has no numeric \"{name}\"");
        }

        var weight = value.GetDouble();
        if (!(weight >= 0) || double.IsInfinity(weight))
        {
            throw new InvalidDataException($"profiles: profile '{profile}' has {name} = {weight}; weights must be finite and >= 0");
        }

        return weight;
    }
}
