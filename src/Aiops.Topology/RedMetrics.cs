using Aiops.Core;

namespace Aiops.Topology;

/// <summary>
/// Names of the RED series <see cref="SpanAggregator"/> emits and how a series maps onto a node of
/// the service graph. Scopes are told apart by the label: none (the whole service, from its server
/// and consumer spans), <c>operation=NAME</c>, <c>instance=ID</c>, or <c>callee=NODE</c> for an
/// edge (from the caller's client spans; the series' service is the caller).
/// </summary>
public static class RedMetrics
{
    /// <summary>Requests per second in the bucket (<see cref="MetricKind.Throughput"/>).</summary>
    public const string Requests = "requests.rate";

    /// <summary>Failed fraction of requests, total = request count (<see cref="MetricKind.ErrorRate"/>).</summary>
    public const string Errors = "errors.ratio";

    /// <summary>Median latency in ms (<see cref="MetricKind.Latency"/>).</summary>
    public const string LatencyP50 = "latency.p50";

    /// <summary>95th percentile latency in ms (<see cref="MetricKind.Latency"/>).</summary>
    public const string LatencyP95 = "latency.p95";

    /// <summary>99th percentile latency in ms (<see cref="MetricKind.Latency"/>).</summary>
    public const string LatencyP99 = "latency.p99";

    /// <summary>Label key of per-operation series.</summary>
    public const string OperationLabel = "operation";

    /// <summary>Label key of per-instance (replica) series.</summary>
    public const string InstanceLabel = "instance";

    /// <summary>Label key of per-edge series; the value is the callee node.</summary>
    public const string CalleeLabel = "callee";

    /// <summary>Node name prefix of an uninstrumented database (<c>db:postgresql</c>).</summary>
    public const string DatabasePrefix = "db:";

    /// <summary>Node name prefix of a message broker (<c>queue:kafka</c>).</summary>
    public const string QueuePrefix = "queue:";

    /// <summary>Node name prefix of an uninstrumented remote host or service (<c>ext:api.stripe.com</c>).</summary>
    public const string ExternalPrefix = "ext:";

    /// <summary>
    /// The graph node a series is about: the callee for an edge series (a slow edge points at what
    /// it calls), otherwise the series' service.
    /// </summary>
    public static string NodeOf(SeriesKey series)
    {
        string? callee = LabelValue(series.Labels, CalleeLabel);
        return callee ?? series.Service;
    }

    /// <summary>The value of <paramref name="key"/> in a canonical label string, or null.</summary>
    public static string? LabelValue(string labels, string key)
    {
        if (string.IsNullOrEmpty(labels))
        {
            return null;
        }

        int start = 0;
        while (start < labels.Length)
        {
            int comma = labels.IndexOf(',', start);
            int end = comma < 0 ? labels.Length : comma;
            int eq = labels.IndexOf('=', start);
            if (eq > start && eq < end && end - start > key.Length
                && string.CompareOrdinal(labels, start, key, 0, key.Length) == 0 && eq - start == key.Length)
            {
                return labels.Substring(eq + 1, end - eq - 1);
            }

            start = end + 1;
        }

        return null;
    }

    /// <summary>True when the node name denotes an uninstrumented (virtual) node.</summary>
    public static bool IsVirtualNode(string node) =>
        node.StartsWith(DatabasePrefix, StringComparison.Ordinal)
        || node.StartsWith(QueuePrefix, StringComparison.Ordinal)
        || node.StartsWith(ExternalPrefix, StringComparison.Ordinal);
}
