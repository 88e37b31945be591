using System.Globalization;
using Aiops.Core;

namespace Aiops.Topology;

/// <summary>Thresholds of the remediation rules.</summary>
public sealed class RemediationOptions
{
    /// <summary>
    /// A version first seen at most this long (ms) before the errors began counts as "right
    /// before": 15 min, about the time a rolling deploy of a few replicas takes to finish.
    /// </summary>
    public long VersionChangeWindowMs { get; set; } = 15 * 60_000;

    /// <summary>
    /// Utilisation (fraction of capacity) at or above which a resource counts as saturated: 0.9.
    /// Values above 1.5 are read as percentages.
    /// </summary>
    public double SaturationHighWater { get; set; } = 0.9;

    /// <summary>
    /// A replica deviates from its peers when its latest median latency is at least this multiple
    /// of the peers' median: 2. The simulator's bad replica runs ×5–7 slower; healthy replicas of
    /// one service differ by well under ×1.5 minute to minute at ≥ 10 requests.
    /// </summary>
    public double ReplicaLatencyFactor { get; set; } = 2.0;

    /// <summary>
    /// …or its latest error ratio exceeds the peers' median by at least this much (absolute): 0.05,
    /// five failed requests in a hundred more than its peers.
    /// </summary>
    public double ReplicaErrorExcess { get; set; } = 0.05;
}

/// <summary>
/// Turns a root-cause candidate's evidence into a remediation hint. The rules, first match wins:
/// an error burst right after a version change → roll back; anomalies on exactly one of several
/// replicas, corroborated by two metrics or repeated verdicts (one stray verdict on a replica at
/// low traffic is noise) and by that replica's own latest RED values against its peers' (median
/// latency ×2, or error ratio +5 points), or a replica-drift verdict → shift traffic away / restart it; a resource at its
/// limit (or saturation together with more load) → scale out; slowness with CPU pressure below
/// the limit and no extra load (each request got costlier) → capture a CPU profile; any other
/// saturation rise → scale out; otherwise investigate.
/// </summary>
public static class RemediationAdvisor
{
    /// <summary>The hint for <paramref name="node"/> from its signals and what the graph knows of it.</summary>
    public static (RemediationKind Kind, string Hint) Advise(string node, IReadOnlyList<IncidentSignal> signals, ServiceGraph? graph, RemediationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(signals);
        options ??= new RemediationOptions();
        ServiceNode? info = null;
        graph?.TryGetNode(node, out info!);

        long since = long.MaxValue;
        long errorSince = long.MaxValue;
        bool latencyUp = false;
        bool throughputUp = false;
        bool cpuUp = false;
        bool saturationUp = false;
        bool atLimit = false;
        bool replicaDrift = false;
        string? saturatedMetric = null;
        double saturatedValue = 0;
        var instances = new SortedSet<string>(StringComparer.Ordinal);
        var instanceMetrics = new HashSet<string>(StringComparer.Ordinal);
        int instanceEvidence = 0;
        foreach (var s in signals)
        {
            since = Math.Min(since, s.SinceMs);
            switch (s.Kind)
            {
                case MetricKind.ErrorRate when s.Direction != Direction.Down:
                    errorSince = Math.Min(errorSince, s.SinceMs);
                    break;
                case MetricKind.Latency when s.Direction != Direction.Down:
                    latencyUp = true;
                    break;
                case MetricKind.Throughput when s.Direction == Direction.Up:
                    throughputUp = true;
                    break;
                case MetricKind.Saturation when s.Direction != Direction.Down:
                    saturationUp = true;
                    double utilisation = s.Observed > 1.5 ? s.Observed / 100 : s.Observed;
                    if (utilisation >= options.SaturationHighWater)
                    {
                        atLimit = true;
                    }

                    if (saturatedMetric is null || utilisation > saturatedValue)
                    {
                        saturatedMetric = s.Metric;
                        saturatedValue = utilisation;
                    }

                    if (s.Metric.Contains("cpu", StringComparison.OrdinalIgnoreCase))
                    {
                        cpuUp = true;
                    }

                    break;
            }

            if (s.Detector == DetectorKind.ReplicaDrift)
            {
                replicaDrift = true;
            }

            if (RedMetrics.LabelValue(s.Labels, RedMetrics.InstanceLabel) is { } instance)
            {
                instances.Add(instance);
                // Corroboration: each distinct metric of the replica counts once, repeats add.
                if (instanceMetrics.Add(s.Metric))
                {
                    instanceEvidence++;
                }

                instanceEvidence += Math.Max(0, s.Verdicts - 1);
            }
        }

        if (info is { LastVersionChangeMs: long changed } && errorSince != long.MaxValue
            && changed <= errorSince + 60_000 && errorSince - changed <= options.VersionChangeWindowMs)
        {
            string text = string.Create(CultureInfo.InvariantCulture,
                $"Roll back {node} from {info.LatestVersion} to {info.PreviousVersion ?? "the previous version"}: errors rose {(errorSince - changed) / 1000.0:0}s after {info.LatestVersion} first appeared.");
            return (RemediationKind.Rollback, text);
        }

        int knownInstances = info?.Instances.Count ?? 0;
        if (instances.Count == 1 && (replicaDrift || (knownInstances >= 2 && instanceEvidence >= 2)))
        {
            // Per-instance evidence: the replica's own latest RED values against its peers'. The
            // other replicas having no verdict is not enough (their series may sit under the
            // request floors); a replica-drift verdict is such a comparison already.
            string instance = instances.Min!;
            string? comparison = info is null ? null : CompareWithPeers(info, instance, options);
            if (comparison is not null || replicaDrift)
            {
                string text = string.Create(CultureInfo.InvariantCulture,
                    $"Shift traffic away from replica {instance} of {node} or restart it: only this one of {Math.Max(knownInstances, 2)} replicas deviates{(comparison is null ? "." : ": " + comparison + ".")}");
                return (RemediationKind.ShiftTrafficOrRestart, text);
            }
        }

        if (replicaDrift)
        {
            return (RemediationKind.ShiftTrafficOrRestart, $"Shift traffic away from the drifting replica of {node} or restart it.");
        }

        if (saturationUp && (atLimit || throughputUp))
        {
            string text = string.Create(CultureInfo.InvariantCulture,
                $"Scale out {node}: {saturatedMetric} at {saturatedValue:P0} of capacity{(throughputUp ? " with more load than usual" : string.Empty)}.");
            return (RemediationKind.ScaleOut, text);
        }

        if (cpuUp && latencyUp)
        {
            return (RemediationKind.CaptureProfile, $"Capture a CPU profile of {node}: it got slower with CPU rising and no extra load, so each request costs more CPU.");
        }

        if (saturationUp)
        {
            string text = string.Create(CultureInfo.InvariantCulture, $"Scale out {node}: {saturatedMetric} is rising ({saturatedValue:P0} of capacity).");
            return (RemediationKind.ScaleOut, text);
        }

        return (RemediationKind.Investigate, $"Investigate {node}: its signals started first and explain its callers'; open the exemplar traces.");
    }

    /// <summary>
    /// How <paramref name="instance"/>'s latest RED bucket compares with its peers' (same bucket or
    /// later): a sentence when it deviates by <see cref="RemediationOptions.ReplicaLatencyFactor"/>
    /// or <see cref="RemediationOptions.ReplicaErrorExcess"/>, null when it does not or there is
    /// nothing to compare.
    /// </summary>
    internal static string? CompareWithPeers(ServiceNode node, string instance, RemediationOptions options)
    {
        if (!node.Instances.TryGetValue(instance, out var self) || self.RedBucketMs == long.MinValue)
        {
            return null;
        }

        var latencies = new List<double>();
        var errors = new List<double>();
        foreach (var (name, peer) in node.Instances)
        {
            if (string.Equals(name, instance, StringComparison.Ordinal) || peer.RedBucketMs < self.RedBucketMs)
            {
                continue;
            }

            if (double.IsFinite(peer.LatencyP50Ms))
            {
                latencies.Add(peer.LatencyP50Ms);
            }

            if (double.IsFinite(peer.ErrorRatio))
            {
                errors.Add(peer.ErrorRatio);
            }
        }

        if (latencies.Count > 0 && double.IsFinite(self.LatencyP50Ms))
        {
            double peers = Median(latencies);
            if (peers > 0 && self.LatencyP50Ms >= options.ReplicaLatencyFactor * peers)
            {
                return string.Create(CultureInfo.InvariantCulture, $"median latency {self.LatencyP50Ms:0.#} ms against {peers:0.#} ms on its peers");
            }
        }

        if (errors.Count > 0 && double.IsFinite(self.ErrorRatio))
        {
            double peers = Median(errors);
            if (self.ErrorRatio - peers >= options.ReplicaErrorExcess)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{self.ErrorRatio:P1} of its requests failed against {peers:P1} on its peers");
            }
        }

        return null;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        int n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[(n / 2) - 1] + values[n / 2]) / 2;
    }
}
