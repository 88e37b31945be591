using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Aiops.Core;
using Aiops.Ingestion.JsonLines;
using Aiops.Worker.Processing;

namespace Aiops.Deploy.Tests;

/// <summary>
/// The compile check cannot see JSON field names inside strings: this test checks that every
/// field the notebooks read exists in the formats they read, the incident message the worker
/// writes (its <see cref="JsonPropertyNameAttribute"/>s) and a metric line as the ingestion writer
/// writes it.
/// </summary>
public sealed partial class NotebookFieldTests
{
    [GeneratedRegex(@"(?:GetProperty|TryGetProperty|Strings\(\w+,|Number\(\w+,)\(?\s*""(?<name>[A-Za-z_]+)""")]
    private static partial Regex FieldRead();

    private static HashSet<string> KnownFields()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var type in new[] { typeof(IncidentMessage), typeof(RootCauseMessage), typeof(AnomalyMessage) })
        {
            foreach (var property in type.GetProperties())
            {
                if (property.GetCustomAttribute<JsonPropertyNameAttribute>() is { } attribute)
                {
                    names.Add(attribute.Name);
                }
            }
        }

        using var stream = new MemoryStream();
        using (var writer = new JsonLinesWriter(stream, leaveOpen: true))
        {
            writer.Write(new MetricPoint(new SeriesKey("s", "m", "route=/"), MetricKind.ErrorRate, 1_700_000_000_000, 0.5, 10));
        }

        using var line = JsonDocument.Parse(stream.ToArray().AsMemory().TrimEnd((byte)'\n'));
        foreach (var property in line.RootElement.EnumerateObject())
        {
            names.Add(property.Name);
        }

        return names;
    }

    [Theory]
    [MemberData(nameof(NotebookCompileTests.Notebooks), MemberType = typeof(NotebookCompileTests))]
    public void EveryJsonFieldTheNotebookReadsExistsInItsFormat(string path)
    {
        var (_, cells) = NotebookCells.Read(path);
        var read = cells.SelectMany(c => FieldRead().Matches(c.Source)).Select(m => m.Groups["name"].Value).ToHashSet();
        var known = KnownFields();

        Assert.NotEmpty(read);
        Assert.Empty(read.Except(known));
    }
}
