namespace Aiops.Core;

/// <summary>
/// Identity of one time series: the service (resource <c>service.name</c>) it belongs to, the
/// metric name, and the remaining identifying attributes in a canonical form
/// (<c>k1=v1,k2=v2</c>, keys sorted; empty when there are none). The service is explicit because
/// the correlator maps every series onto a node of the service graph.
/// </summary>
public readonly record struct SeriesKey(string Service, string Metric, string Labels = "")
{
    /// <summary>Builds the canonical label string from unsorted pairs.</summary>
    public static string CanonicalLabels(IEnumerable<KeyValuePair<string, string>> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var sorted = new List<KeyValuePair<string, string>>(labels);
        sorted.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        return string.Join(',', sorted.Select(static p => p.Key + "=" + p.Value));
    }

    /// <inheritdoc/>
    public override string ToString() =>
        Labels.Length == 0 ? $"{Service}/{Metric}" : $"{Service}/{Metric}{{{Labels}}}";
}
