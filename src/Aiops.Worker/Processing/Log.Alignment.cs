using Microsoft.Extensions.Logging;

namespace Aiops.Worker;

/// <summary>Log messages of the event-time aligner (consumer range, 1150–1159).</summary>
internal static partial class Log
{
    [LoggerMessage(1150, LogLevel.Information, "Event-time alignment: {Waits} waits for a partition with nothing buffered ({WaitedMs} ms), {IdleReleases} records handed over after the idle wait, {Pauses} pauses, {Resumes} resumes, {Redelivered} re-delivered records refused, {Buffered} buffered records dropped at the stop (not committed)")]
    public static partial void AlignmentSummary(ILogger logger, long waits, long waitedMs, long idleReleases, long pauses, long resumes, long redelivered, int buffered);
}
