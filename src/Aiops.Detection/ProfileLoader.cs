using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Aiops.Core;

namespace Aiops.Detection;

/// <summary>A profile file that could not be used: which file, which field, and why.</summary>
public sealed class ProfileValidationException : Exception
{
    /// <summary>Creates the exception from its parts; the message reads "file: field 'x': why".</summary>
    public ProfileValidationException(string file, string field, string reason, Exception? inner = null)
        : base($"{file}: field '{field}': {reason}", inner)
    {
        File = file;
        Field = field;
        Reason = reason;
    }

    /// <summary>The file (or source name) that failed.</summary>
    public string File { get; }

    /// <summary>The JSON field at fault (camelCase, as written in the file).</summary>
    public string Field { get; }

    /// <summary>Why the field is wrong.</summary>
    public string Reason { get; }
}

/// <summary>
/// Loads detection profiles from JSON (<c>models/profiles/*.json</c>, one file per metric kind).
/// A file states its <c>kind</c> and only the fields it wants to change: the rest come from the
/// built-in profile of that kind (<see cref="DetectionProfile.Default"/>), so a latency file that
/// omits <c>direction</c> still alerts on rises only. Unknown fields are errors (a misspelt knob
/// silently ignored is worse than a failed start).
/// </summary>
public static class ProfileLoader
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        WriteIndented = false,
    };

    /// <summary>Serialises a profile (all fields) as compact JSON.</summary>
    public static string ToJson(DetectionProfile profile) => JsonSerializer.Serialize(profile, Options);

    /// <summary>Serialises a profile (all fields) as indented JSON, the format of the files under <c>models/profiles</c>.</summary>
    public static string ToIndentedJson(DetectionProfile profile) =>
        JsonSerializer.Serialize(profile, new JsonSerializerOptions(Options) { WriteIndented = true });

    /// <summary>Parses and validates one profile; <paramref name="source"/> names the file in error messages.</summary>
    /// <exception cref="ProfileValidationException">The JSON is malformed, a field is unknown or of the wrong type, or a value is out of range.</exception>
    public static DetectionProfile FromJson(string json, string source)
    {
        JsonObject file;
        try
        {
            file = JsonNode.Parse(json) as JsonObject
                ?? throw new ProfileValidationException(source, "$", "the document must be a JSON object");
        }
        catch (JsonException e)
        {
            throw new ProfileValidationException(source, "$", $"malformed JSON at line {e.LineNumber + 1}: {e.Message}", e);
        }

        if (!file.TryGetPropertyValue("kind", out var kindNode) || kindNode is null)
        {
            throw new ProfileValidationException(source, "kind", "missing; must be one of generic, latency, error_rate, throughput, saturation");
        }

        MetricKind kind;
        try
        {
            kind = kindNode.Deserialize<MetricKind>(Options);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new ProfileValidationException(source, "kind", $"'{kindNode.ToJsonString()}' is not one of generic, latency, error_rate, throughput, saturation", e);
        }

        // Overlay the file on the built-in profile of its kind.
        var merged = JsonNode.Parse(ToJson(DetectionProfile.Default(kind)))!.AsObject();
        foreach (var (name, value) in file)
        {
            if (!merged.ContainsKey(name))
            {
                throw new ProfileValidationException(source, name, "unknown field (names are camelCase, see models/README.md)");
            }

            merged[name] = value?.DeepClone();
        }

        DetectionProfile profile;
        try
        {
            profile = merged.Deserialize<DetectionProfile>(Options)
                ?? throw new ProfileValidationException(source, "$", "the document is null");
        }
        catch (JsonException e)
        {
            var field = e.Path is { Length: > 2 } p && p.StartsWith("$.", StringComparison.Ordinal) ? p[2..] : e.Path ?? "$";
            var shown = file.TryGetPropertyValue(field, out var v) && v is not null ? v.ToJsonString() : "?";
            throw new ProfileValidationException(source, field, $"value {shown} has the wrong type", e);
        }

        var errors = profile.Validate();
        if (errors.Count > 0)
        {
            var first = errors[0];
            var colon = first.IndexOf(':', StringComparison.Ordinal);
            throw new ProfileValidationException(source, first[..colon], first[(colon + 2)..] + (errors.Count > 1 ? $" (and {errors.Count - 1} more: {string.Join("; ", errors.Skip(1))})" : string.Empty));
        }

        return profile;
    }

    /// <summary>Loads one profile file.</summary>
    public static DetectionProfile LoadFile(string path)
    {
        string json;
        try
        {
            json = System.IO.File.ReadAllText(path);
        }
        catch (IOException e)
        {
            throw new ProfileValidationException(path, "$", $"cannot read the file: {e.Message}", e);
        }

        return FromJson(json, path);
    }

    /// <summary>
    /// Loads every <c>*.json</c> in a directory into a set; kinds without a file keep their built-in
    /// profile. Two files for the same kind are an error.
    /// </summary>
    public static ProfileSet LoadDirectory(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new ProfileValidationException(directory, "$", "directory does not exist");
        }

        var profiles = new Dictionary<MetricKind, DetectionProfile>();
        var origin = new Dictionary<MetricKind, string>();
        var files = Directory.GetFiles(directory, "*.json");
        Array.Sort(files, StringComparer.Ordinal);
        foreach (var path in files)
        {
            var p = LoadFile(path);
            if (origin.TryGetValue(p.Kind, out var other))
            {
                throw new ProfileValidationException(path, "kind", $"kind {p.Kind} is already defined by {other}");
            }

            profiles[p.Kind] = p;
            origin[p.Kind] = path;
        }

        return new ProfileSet(profiles);
    }
}

/// <summary>One profile per metric kind, built-in defaults for the kinds not given.</summary>
public sealed class ProfileSet
{
    private readonly DetectionProfile[] _byKind;

    /// <summary>The built-in profiles (no files needed).</summary>
    public static ProfileSet BuiltIn { get; } = new(new Dictionary<MetricKind, DetectionProfile>());

    /// <summary>Creates a set from explicit profiles; missing kinds use <see cref="DetectionProfile.Default"/>.</summary>
    public ProfileSet(IReadOnlyDictionary<MetricKind, DetectionProfile> profiles)
    {
        ArgumentNullException.ThrowIfNull(profiles);
        var kinds = Enum.GetValues<MetricKind>();
        _byKind = new DetectionProfile[kinds.Max(k => (int)k) + 1];
        foreach (var k in kinds)
        {
            _byKind[(int)k] = profiles.TryGetValue(k, out var p) ? p : DetectionProfile.Default(k);
        }
    }

    /// <summary>The profile for a kind (generic for an unknown value).</summary>
    public DetectionProfile For(MetricKind kind) => (int)kind < _byKind.Length ? _byKind[(int)kind] : _byKind[0];
}
