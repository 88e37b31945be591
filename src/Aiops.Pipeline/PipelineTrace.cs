using Aiops.Core;

namespace Aiops.Pipeline;

/// <summary>What the pipeline did with a detector verdict or a RED point, as reported to <see cref="EventTimePipeline.Trace"/>.</summary>
public enum TraceFate : byte
{
    /// <summary>The verdict went to the correlator.</summary>
    Forwarded = 0,

    /// <summary>An error-ratio verdict held back: its bucket had fewer failures than <see cref="PipelineOptions.MinErrorsPerBucket"/>.</summary>
    BelowErrorFloor = 1,

    /// <summary>The verdict waits for its series' confirmation streak (<see cref="PipelineOptions.ConfirmPoints"/>).</summary>
    Held = 2,

    /// <summary>A held verdict dropped because its series returned to normal before the streak was complete.</summary>
    Unconfirmed = 3,

    /// <summary>A latency point not fed to the detectors: its bucket had fewer requests than <see cref="PipelineOptions.MinRequestsPerBucket"/>.</summary>
    BelowRequestFloor = 4,

    /// <summary>A verdict against the direction of its series' episode, the value back within the episode's reference band: the return to baseline.</summary>
    Recovery = 5,

    /// <summary>A verdict of a series whose detector has fewer points than <see cref="PipelineOptions.MinHistoryPoints"/>.</summary>
    Immature = 6,
}

/// <summary>
/// One diagnostic event of the pipeline: a verdict and what became of it, or a RED point skipped
/// by a floor (then <see cref="Verdict"/> is null). Only produced when a <see cref="EventTimePipeline.Trace"/>
/// callback is set, so the evaluation can say per case why a cause was missed.
/// </summary>
/// <param name="Fate">What happened.</param>
/// <param name="Point">The point that raised the verdict or was skipped.</param>
/// <param name="Verdict">The verdict; null for a skipped point.</param>
public readonly record struct PipelineTrace(TraceFate Fate, MetricPoint Point, Anomaly? Verdict);
