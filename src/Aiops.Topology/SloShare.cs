namespace Aiops.Topology;

/// <summary>
/// One input partition's counts of one SLO in one bucket: the requests it counted and how many of
/// them were bad. Both are plain counts, so the shares of the same (objective, bucket) from
/// different partitions add exactly, and the burn rate of the merged counts is the burn rate of one
/// monitor fed every span (see <see cref="SloMonitor.AddShare"/>).
/// </summary>
/// <param name="Service">The objective's service: the routing key, so the shares of a service meet in one place.</param>
/// <param name="Objective">The objective's <see cref="SloDefinition.Name"/> (unique among the objectives).</param>
/// <param name="BucketStartMs">Start of the bucket (Unix ms, a multiple of the bucket width).</param>
/// <param name="Bad">Requests that failed the objective's SLI.</param>
/// <param name="Total">Requests counted (at least one; a bucket without requests sends no share).</param>
public readonly record struct SloShare(string Service, string Objective, long BucketStartMs, long Bad, long Total);
