using Aiops.Core;

namespace Aiops.Topology;

/// <summary>Weights and constants of <see cref="RootCauseRanker"/>.</summary>
public sealed class RcaOptions
{
    /// <summary>Weight of the personalised random walk's visit share.</summary>
    public double WalkWeight { get; set; } = 0.30;

    /// <summary>Weight of the explanation term (explains its callers, is not explained by a callee).</summary>
    public double ExplanationWeight { get; set; } = 0.30;

    /// <summary>Weight of onset order (earlier is likelier the cause).</summary>
    public double OnsetWeight { get; set; } = 0.20;

    /// <summary>Weight of the node's own anomaly severity.</summary>
    public double SeverityWeight { get; set; } = 0.20;

    /// <summary>
    /// Onset decay (ms): a node starting this long after the first one keeps e⁻¹ of the onset
    /// score. 2 min = two 60-s buckets, the usual lag between a cause and its callers' symptoms.
    /// </summary>
    public long OnsetScaleMs { get; set; } = 120_000;

    /// <summary>
    /// Farthest (ms) a signal's onset may lie before its first verdict: 3 min. Change-point
    /// detectors date a change from where their statistic started to climb, which noise can put
    /// far earlier: in eval rca a frontend P95 CUSUM dated a packet-loss case's symptom 16 min
    /// before the fault, ahead of the callee's edge errors that fired at its start. Three
    /// one-minute buckets keep the real lead a cause has over its callers.
    /// </summary>
    public long OnsetLookbackMs { get; set; } = 180_000;

    /// <summary>A callee "started no later" than its caller if within this slack (ms): one 60-s bucket.</summary>
    public long OnsetSlackMs { get; set; } = 60_000;

    /// <summary>
    /// PageRank damping d (probability of following an edge rather than restarting at the
    /// personalisation vector): 0.85, the value of Page et al. and of MicroRCA's experiments.
    /// </summary>
    public double Damping { get; set; } = 0.85;

    /// <summary>MonitorRank's backward-edge factor ρ (walk from a node to its anomalous callers): 0.3.</summary>
    public double BackwardWeight { get; set; } = 0.3;

    /// <summary>Power-iteration cap; convergence to 1e-9 in L1 usually takes 30–60 steps.</summary>
    public int MaxIterations { get; set; } = 100;

    /// <summary>Candidates returned per incident.</summary>
    public int MaxCandidates { get; set; } = 5;

    /// <summary>Rules for the remediation hints.</summary>
    public RemediationOptions Remediation { get; set; } = new();
}

/// <summary>
/// Ranks the likely root causes of one incident on the service graph.
/// </summary>
/// <remarks>
/// <para>The anomalous subgraph is the incident's nodes with the graph's edges between them. Each
/// node v gets four scores in [0, 1]:</para>
/// <list type="bullet">
/// <item><b>severity</b> s(v): noisy-or 1 − Π(1 − score/2) over its cause-like signals; a
/// throughput fall is an effect of upstream trouble and an SLO burn-rate alert is a symptom (it
/// says users suffer at that service, not why), so a node with only those counts at 0.3.</item>
/// <item><b>onset</b>: exp(−(since(v) − since_min) / τ), causes start first.</item>
/// <item><b>explanation</b>: ½·(1 − max over anomalous callees c of: 1 if v fired on its own
/// edge series to c (v witnessed c), else s(c), halved if c started later)
/// + ½·(share of v's callers that are anomalous and either started no earlier than v or fired on
/// their own edge series to v, × 0.3 if v only lost throughput): an anomalous
/// callee below an anomalous caller takes the blame, so it moves down the call chain.</item>
/// <item><b>walk</b>: the stationary visit share of a personalised random walk — MicroRCA (Wu,
/// Tordsson, Elmroth, Kao, "MicroRCA: Root Cause Localization of Performance Issues in
/// Microservices", NOMS 2020, §III-C: personalised PageRank over the anomalous subgraph with the
/// anomaly score as personalisation vector) with MonitorRank's transitions (Kim, Sumbaly, Shah,
/// "Root Cause Detection in a Service-Oriented Architecture", SIGMETRICS 2013, §4.2): forward to a
/// callee c with weight s(c), backward to a caller p with ρ·s(p), and a self-loop
/// max(0, s(v) − max_c s(c)) so the walk stays at a node more anomalous than its callees (none
/// for a node that witnessed an anomalous callee on its own edge series).
/// π = (1 − d)·u + d·πP by power iteration, u ∝ s.</item>
/// </list>
/// <para>The final score is the weighted sum (<see cref="RcaOptions"/>); ties break on the node
/// name so the ranking is deterministic. Cost: O(iterations · (nodes + edges)) on the anomalous
/// subgraph, plus one breadth-first search per returned candidate for its path.</para>
/// </remarks>
public static class RootCauseRanker
{
    /// <summary>Ranks the nodes of <paramref name="signals"/>; returns at most <see cref="RcaOptions.MaxCandidates"/>.</summary>
    public static IReadOnlyList<RootCauseCandidate> Rank(IReadOnlyList<IncidentSignal> signals, ServiceGraph graph, RcaOptions? options = null) =>
        Rank(signals, graph, options, out _);

    /// <summary>Ranks the nodes of <paramref name="signals"/> and names the incident's main symptom.</summary>
    public static IReadOnlyList<RootCauseCandidate> Rank(IReadOnlyList<IncidentSignal> signals, ServiceGraph graph, RcaOptions? options, out string symptom)
    {
        ArgumentNullException.ThrowIfNull(signals);
        ArgumentNullException.ThrowIfNull(graph);
        options ??= new RcaOptions();
        symptom = string.Empty;
        if (signals.Count == 0)
        {
            return [];
        }

        // Group signals per node; nodes sorted so every later loop is deterministic.
        var byNode = new SortedDictionary<string, List<IncidentSignal>>(StringComparer.Ordinal);
        foreach (var s in signals)
        {
            if (!byNode.TryGetValue(s.Node, out var list))
            {
                list = [];
                byNode.Add(s.Node, list);
            }

            list.Add(s);
        }

        int n = byNode.Count;
        var names = new string[n];
        var index = new Dictionary<string, int>(n, StringComparer.Ordinal);
        var severity = new double[n];
        var causeLike = new bool[n];
        var since = new long[n];
        var witnesses = new HashSet<string>?[n];
        int k = 0;
        foreach (var (node, list) in byNode)
        {
            names[k] = node;
            index[node] = k;
            // Noisy-or over the node's signals, each counted at half its score so one signal
            // never saturates: 1 signal at 1.0 → 0.5, 2 → 0.75, 3 → 0.875. Several independent
            // signals (latency, errors, a saturation) make a node more credibly anomalous than one
            // stray verdict.
            double causeMiss = 1;
            double effectMiss = 1;
            long first = long.MaxValue;
            foreach (var s in list)
            {
                double score = Math.Clamp(s.Score, 0, 1);
                if ((s.Kind == MetricKind.Throughput && s.Direction == Direction.Down) || s.Detector == DetectorKind.BurnRate)
                {
                    effectMiss *= 1 - (0.5 * score);
                }
                else
                {
                    causeMiss *= 1 - (0.5 * score);
                }

                // A change-point start (CUSUM, martingale) can be placed long before the change by
                // noise accumulated earlier; bound it to OnsetLookbackMs before the first verdict.
                long onsetOf = s.FirstSeenMs > 0 ? Math.Max(s.SinceMs, s.FirstSeenMs - options.OnsetLookbackMs) : s.SinceMs;
                first = Math.Min(first, onsetOf);
                if (!string.Equals(s.Service, node, StringComparison.Ordinal))
                {
                    // An edge series: the caller (Service) observed this node (the callee).
                    (witnesses[k] ??= new HashSet<string>(StringComparer.Ordinal)).Add(s.Service);
                }
            }

            double cause = 1 - causeMiss;
            severity[k] = Math.Max(cause, 0.3 * (1 - effectMiss));
            causeLike[k] = cause > 0;
            since[k] = first;
            k++;
        }

        // Anomalous subgraph adjacency (callees and callers inside the incident).
        var callees = new List<int>[n];
        var callers = new List<int>[n];
        var allCallers = new int[n];
        for (int i = 0; i < n; i++)
        {
            callees[i] = [];
            callers[i] = [];
        }

        for (int i = 0; i < n; i++)
        {
            if (!graph.ContainsNode(names[i]))
            {
                continue;
            }

            foreach (var edge in graph.Graph.OutEdges(names[i]))
            {
                if (index.TryGetValue(edge.Target, out int j) && j != i)
                {
                    callees[i].Add(j);
                    callers[j].Add(i);
                }
            }

            foreach (var _ in graph.Graph.InEdges(names[i]))
            {
                allCallers[i]++;
            }
        }

        long firstOnset = long.MaxValue;
        for (int i = 0; i < n; i++)
        {
            firstOnset = Math.Min(firstOnset, since[i]);
        }

        var onset = new double[n];
        var explanation = new double[n];
        var witnessedCallee = new bool[n];
        for (int i = 0; i < n; i++)
        {
            onset[i] = Math.Exp(-(double)(since[i] - firstOnset) / Math.Max(1, options.OnsetScaleMs));
            // Explained by a callee below it: fully when this node witnessed it (its own edge
            // series to the callee fired: it measured the callee slow or failing, so its own
            // latency or errors are what it got from the callee), otherwise by the callee's
            // severity, halved if the callee started later. In eval rca, without the witness
            // test, checkout (6 error signals, its own and its caller's edge to it) outranked the
            // product-catalog error burst it was passing on, whose verdicts scored lower.
            double explainedBelow = 0;
            foreach (int c in callees[i])
            {
                bool witnessed = witnesses[c] is { } seen && seen.Contains(names[i]);
                witnessedCallee[i] |= witnessed;
                double compat = since[c] <= since[i] + options.OnsetSlackMs ? 1.0 : 0.5;
                explainedBelow = Math.Max(explainedBelow, witnessed ? 1.0 : severity[c] * compat);
            }

            // Callers it can explain: anomalous and either not started before it (within the
            // slack) or witnesses of it: the caller's own edge series to it fired, so the caller
            // measured it slow or failing. The witness test does not rely on onsets, which are
            // change-point estimates that a CUSUM can place minutes early: in the pipeline's
            // slow-database scenario its callers' onsets came out 6–7 min before the fault began
            // and the database's 3 min, so the onset test alone let the database explain neither
            // caller and product-catalog outranked it.
            int explained = 0;
            var nodeWitnesses = witnesses[i];
            foreach (int p in callers[i])
            {
                if (since[i] <= since[p] + options.OnsetSlackMs
                    || (nodeWitnesses is not null && nodeWitnesses.Contains(names[p])))
                {
                    explained++;
                }
            }

            double explainsAbove = allCallers[i] == 0 ? 0 : (double)explained / allCallers[i];
            if (!causeLike[i])
            {
                // Only a throughput fall: the node is downstream of the trouble, not its source.
                explainsAbove *= 0.3;
            }

            explanation[i] = (0.5 * (1 - explainedBelow)) + (0.5 * explainsAbove);
        }

        double[] walk = PersonalisedWalk(severity, callees, callers, options, witnessedCallee);

        var scored = new (int Node, double Score)[n];
        for (int i = 0; i < n; i++)
        {
            double score = (options.WalkWeight * walk[i]) + (options.ExplanationWeight * explanation[i])
                + (options.OnsetWeight * onset[i]) + (options.SeverityWeight * severity[i]);
            double totalWeight = options.WalkWeight + options.ExplanationWeight + options.OnsetWeight + options.SeverityWeight;
            scored[i] = (i, totalWeight > 0 ? score / totalWeight : 0);
        }

        Array.Sort(scored, (a, b) =>
        {
            int c = b.Score.CompareTo(a.Score);
            return c != 0 ? c : string.CompareOrdinal(names[a.Node], names[b.Node]);
        });

        // The main symptom: the most severe node no anomalous caller explains (most upstream).
        int symptomIndex = -1;
        for (int i = 0; i < n; i++)
        {
            if (callers[i].Count == 0 && (symptomIndex < 0 || severity[i] > severity[symptomIndex]))
            {
                symptomIndex = i;
            }
        }

        if (symptomIndex < 0)
        {
            symptomIndex = 0;
            for (int i = 1; i < n; i++)
            {
                if (severity[i] > severity[symptomIndex])
                {
                    symptomIndex = i;
                }
            }
        }

        symptom = names[symptomIndex];
        int count = Math.Min(n, Math.Max(1, options.MaxCandidates));
        var result = new List<RootCauseCandidate>(count);
        for (int r = 0; r < count; r++)
        {
            int i = scored[r].Node;
            string node = names[i];
            var nodeSignals = byNode[node];
            var exemplars = new List<string>();
            foreach (var s in nodeSignals)
            {
                foreach (string id in s.ExemplarTraceIds)
                {
                    if (exemplars.Count < 5 && !exemplars.Contains(id))
                    {
                        exemplars.Add(id);
                    }
                }
            }

            var path = graph.FindPath(symptom, node, directed: true)
                ?? graph.FindPath(symptom, node, directed: false)
                ?? (string.Equals(symptom, node, StringComparison.Ordinal) ? [node] : (IReadOnlyList<string>)[symptom, node]);
            var (kind, hint) = RemediationAdvisor.Advise(node, nodeSignals, graph, options.Remediation);
            result.Add(new RootCauseCandidate
            {
                Node = node,
                Rank = r + 1,
                Score = Math.Round(scored[r].Score, 6),
                IsVirtual = RedMetrics.IsVirtualNode(node),
                Signals = nodeSignals,
                SinceMs = since[i],
                ExemplarTraceIds = exemplars,
                Path = path,
                Remediation = kind,
                RemediationHint = hint,
                ScoreParts = new SortedDictionary<string, double>(StringComparer.Ordinal)
                {
                    ["explanation"] = Math.Round(explanation[i], 6),
                    ["onset"] = Math.Round(onset[i], 6),
                    ["severity"] = Math.Round(severity[i], 6),
                    ["walk"] = Math.Round(walk[i], 6),
                },
            });
        }

        return result;
    }

    /// <summary>
    /// Personalised PageRank on the anomalous subgraph with MonitorRank transitions; returns each
    /// node's visit share scaled so the top node has 1.
    /// </summary>
    /// <param name="severity">s(v) per node.</param>
    /// <param name="callees">Anomalous callees per node.</param>
    /// <param name="callers">Anomalous callers per node.</param>
    /// <param name="options">Damping, backward weight, iterations.</param>
    /// <param name="witnessedCallee">
    /// Per node, whether it fired on its own edge series to an anomalous callee; such a node gets
    /// no self-loop (its anomaly is what it measured below it), so the walk moves on down. Null: none.
    /// </param>
    internal static double[] PersonalisedWalk(double[] severity, List<int>[] callees, List<int>[] callers, RcaOptions options, bool[]? witnessedCallee = null)
    {
        int n = severity.Length;
        var personal = new double[n];
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            personal[i] = severity[i] + 1e-6;
            total += personal[i];
        }

        for (int i = 0; i < n; i++)
        {
            personal[i] /= total;
        }

        // Row-normalised transition weights: callees, callers (× ρ), self.
        var outWeight = new double[n];
        var selfWeight = new double[n];
        for (int i = 0; i < n; i++)
        {
            double maxCallee = 0;
            double sum = 0;
            foreach (int c in callees[i])
            {
                sum += severity[c];
                maxCallee = Math.Max(maxCallee, severity[c]);
            }

            foreach (int p in callers[i])
            {
                sum += options.BackwardWeight * severity[p];
            }

            selfWeight[i] = witnessedCallee is not null && witnessedCallee[i] ? 0 : Math.Max(0, severity[i] - maxCallee);
            sum += selfWeight[i];
            outWeight[i] = sum;
        }

        var rank = (double[])personal.Clone();
        var next = new double[n];
        double d = options.Damping;
        for (int iteration = 0; iteration < options.MaxIterations; iteration++)
        {
            double dangling = 0;
            Array.Clear(next);
            for (int i = 0; i < n; i++)
            {
                double mass = rank[i];
                if (outWeight[i] <= 0)
                {
                    dangling += mass;
                    continue;
                }

                double unit = mass / outWeight[i];
                foreach (int c in callees[i])
                {
                    next[c] += unit * severity[c];
                }

                foreach (int p in callers[i])
                {
                    next[p] += unit * options.BackwardWeight * severity[p];
                }

                next[i] += unit * selfWeight[i];
            }

            double change = 0;
            for (int i = 0; i < n; i++)
            {
                double value = ((1 - d) * personal[i]) + (d * (next[i] + (dangling * personal[i])));
                change += Math.Abs(value - rank[i]);
                rank[i] = value;
            }

            if (change < 1e-9)
            {
                break;
            }
        }

        double max = 0;
        foreach (double v in rank)
        {
            max = Math.Max(max, v);
        }

        if (max > 0)
        {
            for (int i = 0; i < n; i++)
            {
                rank[i] /= max;
            }
        }

        return rank;
    }
}
