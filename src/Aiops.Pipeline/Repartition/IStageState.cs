namespace Aiops.Pipeline.Repartition;

/// <summary>
/// A stage whose open state (what it holds between records: open buckets, pending spans and
/// shares, watermarks) goes into its partition's checkpoint beside the detectors' baselines.
/// </summary>
/// <remarks>
/// The contract: state saved after the record at offset N − 1, loaded into a freshly constructed
/// stage with the same options, and the input read on from N gives exactly the output of an
/// undisturbed run. The detector registry is not part of it (<see cref="DetectionStage.Save"/>
/// writes that).
/// </remarks>
public interface IStageState
{
    /// <summary>
    /// Event time the state stands at (Unix ms): it can move without a record of the stage's own
    /// partition (an idle input partition advanced by the others), and a checkpoint is then due.
    /// </summary>
    long WatermarkMs { get; }

    /// <summary>Writes the open state (a section with its own magic and version); O(state).</summary>
    void SaveState(BinaryWriter writer);

    /// <summary>Loads a saved open state into this fresh stage; <see cref="InvalidDataException"/> naming the section when it is bad, truncated or foreign.</summary>
    void LoadState(BinaryReader reader);
}
