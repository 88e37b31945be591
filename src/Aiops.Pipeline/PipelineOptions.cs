using Aiops.Detection;
using Aiops.Topology;

namespace Aiops.Pipeline;

/// <summary>
/// The knobs of the <see cref="EventTimePipeline"/>. Defaults suit the simulator and a typical
/// service mesh: one-minute buckets, as the SRE dashboards the hints refer to use.
/// </summary>
public sealed class PipelineOptions
{
    /// <summary>
    /// Width of the event-time buckets RED series are computed over (overrides
    /// <see cref="TopologyOptions.BucketWidthMs"/>). 60 s: at a few hundred spans per minute a
    /// bucket holds ≥ 20 requests per service, enough for a stable median.
    /// </summary>
    public long BucketMs { get; set; } = 60_000;

    /// <summary>
    /// How long after a bucket's end spans for it are still accepted (and client/server spans
    /// paired) before it is closed and its RED points reach the detectors (overrides
    /// <see cref="TopologyOptions.PairingWaitMs"/>). 30 s covers exporter batching (5 s in the
    /// OpenTelemetry SDK) without delaying verdicts by more than half a bucket.
    /// </summary>
    public long AllowedLatenessMs { get; set; } = 30_000;

    /// <summary>
    /// How often (event time) closed buckets are collected and the correlator's clock moves: 1 s.
    /// Doing it per record would cost a pass over the pending pairs per span; per second keeps
    /// incident timing exact to the second.
    /// </summary>
    public long AdvanceIntervalMs { get; set; } = 1_000;

    /// <summary>
    /// RED metrics fed to the detectors for whole services (names from <see cref="RedMetrics"/>).
    /// Throughput is left out: a fall of requests is what callers of a failing service show, and a
    /// rise is a load change, not a fault; the error ratio and the median and tail latency carry
    /// the faults.
    /// </summary>
    public IReadOnlyList<string> ServiceMetrics { get; set; } = [RedMetrics.Errors, RedMetrics.LatencyP50, RedMetrics.LatencyP95];

    /// <summary>
    /// RED metrics fed for caller → callee edges (series of the caller labelled <c>callee=</c>; the
    /// correlator maps them to the callee). They carry what only the calling side sees: network
    /// delay, lost packets and retries, and uninstrumented databases and queues.
    /// </summary>
    public IReadOnlyList<string> EdgeMetrics { get; set; } = [RedMetrics.Errors, RedMetrics.LatencyP50];

    /// <summary>RED metrics fed per replica (<c>instance=</c>), so one bad replica stands out.</summary>
    public IReadOnlyList<string> InstanceMetrics { get; set; } = [RedMetrics.Errors, RedMetrics.LatencyP50];

    /// <summary>RED metrics fed per operation (span name); none by default, as operations multiply series without adding causes.</summary>
    public IReadOnlyList<string> OperationMetrics { get; set; } = [];

    /// <summary>
    /// Minimum requests in a bucket for its latency quantiles to reach the detectors; below it a
    /// quantile is noise (the P95 of 4 requests is their maximum). 10: with 5, the median of a
    /// service seeing ~6 requests a minute (the simulator's email service) opened level-shift
    /// incidents in fault-free runs; its faults still show in its CPU, errors and callers.
    /// </summary>
    public int MinRequestsPerBucket { get; set; } = 10;

    /// <summary>
    /// Minimum requests behind a tail quantile (P95, P99) for it to reach the detectors. A
    /// q-quantile of n requests rests on the n(1 − q) slowest: 40 puts two requests above a P95.
    /// Measured with <c>eval rca</c>: once quiet services got 5-minute windows of ≥ 20 requests
    /// (<see cref="TopologyOptions.MinWindowRequests"/>), their P95s over 20–30 requests (the
    /// second-slowest request) opened 11 incidents in the fault-free week at the 10-request floor.
    /// </summary>
    public int MinRequestsForTail { get; set; } = 40;

    /// <summary>
    /// Minimum failed requests in a bucket for an error-ratio verdict to reach the correlator (the
    /// point still trains the detector). At 20 requests per minute one failure is a 5% error
    /// ratio, yet a lone failed request is routine; 3 failures in one bucket at a base error rate
    /// of 0.1% has a probability below 1e-3 (Poisson, λ = 0.02).
    /// </summary>
    public int MinErrorsPerBucket { get; set; } = 3;

    /// <summary>Maximum series with detector state (label explosions); beyond it new series are counted and dropped.</summary>
    public int MaxSeries { get; set; } = 100_000;

    /// <summary>What a new series does at <see cref="MaxSeries"/>: rejected (default) or the least recently seen series evicted (the worker's choice).</summary>
    public SeriesLimitPolicy SeriesLimitPolicy { get; set; } = SeriesLimitPolicy.RejectNew;

    /// <summary>Detector profiles; built-in profiles when null.</summary>
    public ProfileSet? Profiles { get; set; }

    /// <summary>
    /// Service level objectives whose multi-window burn-rate alerts (<see cref="SloMonitor"/>)
    /// join the incidents as symptom signals: they page, the detectors' signals explain. None by
    /// default; in the worker they come from the "Pipeline:Slo" configuration section, e.g.
    /// <c>{"Objectives": [{"Name": "checkout-latency", "Service": "checkout", "Kind": "Latency",
    /// "Objective": 0.999, "LatencyThresholdMs": 300}]}</c>. <see cref="BucketMs"/> and
    /// <see cref="AllowedLatenessMs"/> override its bucket width and lateness.
    /// </summary>
    public SloOptions Slo { get; set; } = new();

    /// <summary>Span aggregation settings; <see cref="BucketMs"/> and <see cref="AllowedLatenessMs"/> override its bucket width and pairing wait.</summary>
    public TopologyOptions Topology { get; set; } = new();

    /// <summary>
    /// Incident correlation and ranking settings. The pipeline's default differs from the
    /// correlator's own in one place, measured with <c>eval rca</c> on the simulator: an incident
    /// needs 2 distinct signals (series × detector) to open; a real fault moves at least its own
    /// series and a caller's, or several replicas, or one series through two detectors.
    /// </summary>
    public CorrelatorOptions Correlator { get; set; } = new() { MinSignalsToOpen = 2 };

    /// <summary>
    /// Consecutive abnormal points of a series (raising a verdict, outside the detector's band, or
    /// beyond the band of the episode's first verdict) before its verdicts reach the
    /// correlator (the held ones are then passed on together), like the <c>for:</c> clause of a
    /// Prometheus alert rule. 2: with ~165 series at one point a minute, single-minute spikes of
    /// fault-free traffic opened an incident every half hour in <c>eval rca</c>; requiring a
    /// second minute removed them at the cost of one minute of detection time. 1 disables it.
    /// </summary>
    public int ConfirmPoints { get; set; } = 2;

    /// <summary>
    /// How long (event time, ms) after a series' last verdict its points that stay beyond the band
    /// of the episode's first verdict keep its incident signal alive (see
    /// <see cref="IncidentCorrelator.Sustain"/>): 60 min. The detectors adapt to a new level and
    /// stop firing within minutes, so without it a fault that is still going on had its cause's
    /// signals retired after <see cref="CorrelatorOptions.SignalTtlMs"/> while a caller's sporadic
    /// verdicts kept the incident open: in <c>eval rca</c>, a frontend → cart delay was ranked
    /// on cart for 20 min, then on frontend alone. The cap ends incidents on a level that has
    /// become the new normal. 0 disables sustaining.
    /// </summary>
    public long SustainMs { get; set; } = 60 * 60_000L;

    /// <summary>
    /// Points the detector of a windowed RED series (a quiet one, see
    /// <see cref="TopologyOptions.MinWindowRequests"/>) must have accepted before that series can
    /// start an episode (its verdicts are counted but not passed on before): 150, i.e. 2.5 h of
    /// one-minute points. The detectors call themselves warm after 64 points, but consecutive
    /// windowed points share requests, and their residual spread was still too narrow then: in
    /// <c>eval rca</c> 10 of the 12 incidents opened in the cases' 6-hour warm-ups came 70–110
    /// points after the start. Series computed from their own bucket are not held back (holding
    /// back the frontend's P95, fed only by day, lost a packet-loss case).
    /// </summary>
    public int MinHistoryPoints { get; set; } = 150;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (BucketMs <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(BucketMs), BucketMs, "BucketMs must be positive.");
        }

        if (AllowedLatenessMs < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(AllowedLatenessMs), AllowedLatenessMs, "AllowedLatenessMs must not be negative.");
        }

        if (AdvanceIntervalMs <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(AdvanceIntervalMs), AdvanceIntervalMs, "AdvanceIntervalMs must be positive.");
        }

        if (MinRequestsForTail < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MinRequestsForTail), MinRequestsForTail, "MinRequestsForTail must be at least 1.");
        }

        if (MinRequestsPerBucket < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MinRequestsPerBucket), MinRequestsPerBucket, "MinRequestsPerBucket must be at least 1.");
        }

        if (ConfirmPoints < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ConfirmPoints), ConfirmPoints, "ConfirmPoints must be at least 1.");
        }

        if (MinHistoryPoints < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MinHistoryPoints), MinHistoryPoints, "MinHistoryPoints must not be negative.");
        }

        if (SustainMs < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(SustainMs), SustainMs, "SustainMs must not be negative.");
        }

        if (MinErrorsPerBucket < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MinErrorsPerBucket), MinErrorsPerBucket, "MinErrorsPerBucket must not be negative.");
        }

        if (MaxSeries < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxSeries), MaxSeries, "MaxSeries must be at least 1.");
        }

        ArgumentNullException.ThrowIfNull(ServiceMetrics);
        ArgumentNullException.ThrowIfNull(EdgeMetrics);
        ArgumentNullException.ThrowIfNull(InstanceMetrics);
        ArgumentNullException.ThrowIfNull(OperationMetrics);
        ArgumentNullException.ThrowIfNull(Topology);
        ArgumentNullException.ThrowIfNull(Correlator);
        ArgumentNullException.ThrowIfNull(Slo);
        Correlator.Validate();
    }

    /// <summary>
    /// The span aggregation settings every stage uses: <see cref="Topology"/> with its bucket width
    /// and pairing wait set from <see cref="BucketMs"/> and <see cref="AllowedLatenessMs"/>.
    /// </summary>
    internal TopologyOptions StageTopology()
    {
        Topology.BucketWidthMs = BucketMs;
        Topology.PairingWaitMs = AllowedLatenessMs;
        return Topology;
    }

    /// <summary>
    /// The SLO settings every stage uses: <see cref="Slo"/> with its bucket width and lateness set
    /// from <see cref="BucketMs"/> and <see cref="AllowedLatenessMs"/>, so the ingest stages'
    /// counts and the per-service stage's windows close the same buckets as the RED series.
    /// </summary>
    internal SloOptions StageSlo()
    {
        Slo.BucketWidthMs = BucketMs;
        Slo.AllowedLatenessMs = AllowedLatenessMs;
        return Slo;
    }
}
