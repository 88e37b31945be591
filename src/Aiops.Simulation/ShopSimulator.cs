using Aiops.Core;

namespace Aiops.Simulation;

/// <summary>
/// Deterministic fault-injection simulator of an online shop (see <see cref="ShopTopology"/>):
/// generates client/server span pairs with parent ids, latencies that add up along the call
/// path, errors that propagate to callers, and per-replica CPU and memory points, with a daily
/// traffic shape. Everything is event time from <see cref="ScenarioOptions.StartMs"/> and every
/// random draw comes from one <see cref="Random"/> seeded with <see cref="ScenarioOptions.Seed"/>,
/// so the same options always give the same records.
/// </summary>
public sealed class ShopSimulator
{
    /// <summary>Batch (and resource metric) interval: one simulated minute.</summary>
    public const long BatchMs = 60_000;

    private const long NanosPerMs = 1_000_000;

    /// <summary>Spread of per-request self time (log-normal sigma); 0.35 gives P99/P50 ≈ 2.3, like a healthy RPC service.</summary>
    private const double LatencySigma = 0.35;

    /// <summary>Client timeout before a retry when a packet is lost, ms (a typical gRPC deadline for an internal call).</summary>
    private const double RetryTimeoutMs = 120;

    /// <summary>Attempts per call when packets are lost (first try + 2 retries).</summary>
    private const int MaxAttempts = 3;

    private readonly ScenarioOptions _options;
    private readonly Dictionary<string, int> _serviceIndex = new(StringComparer.Ordinal);
    private readonly int[][] _requestsPerInstance;

    private Random _random = new(0);
    private List<SpanRecord> _spans = [];
    private long _nowMs;

    /// <summary>Creates a simulator; throws when the options are invalid.</summary>
    public ShopSimulator(ScenarioOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _requestsPerInstance = new int[ShopTopology.Services.Length][];
        for (var i = 0; i < ShopTopology.Services.Length; i++)
        {
            _serviceIndex[ShopTopology.Services[i].Name] = i;
            _requestsPerInstance[i] = new int[ShopTopology.Services[i].Replicas];
        }
    }

    /// <summary>Instrumented service names of the simulated shop.</summary>
    public static IReadOnlyList<string> ServiceNames { get; } = ShopTopology.Services.Select(s => s.Name).ToArray();

    /// <summary>The graph node name of the uninstrumented database (<c>db:postgresql</c>), the root cause of a slow database.</summary>
    public static string DatabaseNode => ShopTopology.DatabaseNode;

    /// <summary>The graph node name of the uninstrumented queue (<c>queue:kafka</c>).</summary>
    public static string QueueNode => ShopTopology.QueueNode;

    /// <summary>The scenario being simulated.</summary>
    public ScenarioOptions Options => _options;

    /// <summary>The ground truth of the scenario (the faults, their root causes and affected nodes).</summary>
    public GroundTruth GroundTruth => new()
    {
        Seed = _options.Seed,
        StartMs = AlignedStart,
        EndMs = _options.EndMs,
        Faults = _options.Faults.OrderBy(f => f.StartMs).Select(ToTruth).ToArray(),
    };

    private long AlignedStart => _options.StartMs - (((_options.StartMs % BatchMs) + BatchMs) % BatchMs);

    /// <summary>
    /// The scenario minute by minute in event-time order. Each enumeration restarts from the seed,
    /// so enumerating twice yields the same batches.
    /// </summary>
    public IEnumerable<SimulationBatch> Batches()
    {
        _random = new Random(_options.Seed);
        var carry = new List<SpanRecord>();
        var comparer = Comparer<SpanRecord>.Create(static (a, b) => a.EndUnixNanos.CompareTo(b.EndUnixNanos));
        for (var start = AlignedStart; start < _options.EndMs; start += BatchMs)
        {
            var end = start + BatchMs;
            var isLast = end >= _options.EndMs;
            _spans = new List<SpanRecord>(carry.Count + 1024);
            _spans.AddRange(carry);
            carry.Clear();
            foreach (var counts in _requestsPerInstance)
            {
                Array.Clear(counts);
            }

            GenerateMinute(start);
            var metrics = ResourceMetrics(start);
            _spans.Sort(comparer);
            var emitted = _spans;
            if (!isLast)
            {
                var endNs = end * NanosPerMs;
                var cut = emitted.Count;
                while (cut > 0 && emitted[cut - 1].EndUnixNanos >= endNs)
                {
                    cut--;
                }

                carry.AddRange(emitted.GetRange(cut, emitted.Count - cut));
                emitted.RemoveRange(cut, emitted.Count - cut);
            }

            yield return new SimulationBatch(start, end, emitted, metrics);
        }
    }

    /// <summary>The scenario as one stream of records in event-time order (metric points first within a tie).</summary>
    public IEnumerable<SimulationRecord> Records()
    {
        foreach (var batch in Batches())
        {
            var m = 0;
            foreach (var span in batch.Spans)
            {
                var spanMs = span.EndUnixNanos / NanosPerMs;
                while (m < batch.Metrics.Count && batch.Metrics[m].TimestampMs <= spanMs)
                {
                    yield return SimulationRecord.Of(batch.Metrics[m++]);
                }

                yield return SimulationRecord.Of(span);
            }

            while (m < batch.Metrics.Count)
            {
                yield return SimulationRecord.Of(batch.Metrics[m++]);
            }
        }
    }

    /// <summary>
    /// Traffic multiplier for an instant: a daily shape with its trough (0.55) at 04:00 UTC and its
    /// peak (1.0) at 16:00 UTC, 20% lower on Saturday and Sunday.
    /// </summary>
    internal static double TrafficShape(long timeMs)
    {
        var hour = (timeMs % 86_400_000L) / 3_600_000.0;
        var daily = 0.55 + (0.45 * (0.5 - (0.5 * Math.Cos(2 * Math.PI * (hour - 4) / 24))));
        var dayOfWeek = DateTimeOffset.FromUnixTimeMilliseconds(timeMs).DayOfWeek;
        return dayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday ? daily * 0.8 : daily;
    }

    private void GenerateMinute(long minuteStartMs)
    {
        var traces = Poisson(_options.TracesPerMinute * TrafficShape(minuteStartMs));
        var starts = new long[traces];
        for (var i = 0; i < traces; i++)
        {
            starts[i] = minuteStartMs + (long)(_random.NextDouble() * BatchMs);
        }

        Array.Sort(starts);
        foreach (var startMs in starts)
        {
            GenerateTrace(startMs);
        }
    }

    private void GenerateTrace(long startMs)
    {
        _nowMs = startMs;
        var pick = _random.NextDouble();
        var operation = ShopTopology.Operations[^1];
        foreach (var candidate in ShopTopology.Operations)
        {
            if (pick < candidate.Share)
            {
                operation = candidate;
                break;
            }

            pick -= candidate.Share;
        }

        var traceId = new UInt128(NextId(), NextId());
        var frontend = ShopTopology.Services[_serviceIndex[ShopTopology.Frontend]];
        var startNs = (startMs * NanosPerMs) + _random.Next(0, 1_000_000);
        Serve(frontend, operation.Name, operation.Calls, traceId, NextId(), 0, startNs, SpanKind.Server);
    }

    /// <summary>Serves one request on a replica of <paramref name="service"/>; returns the server span's end and failure.</summary>
    private (long EndNs, bool Failed) Serve(ServiceSpec service, string operation, CallNode[] calls, UInt128 traceId, ulong spanId, ulong parentId, long startNs, SpanKind kind)
    {
        var index = _serviceIndex[service.Name];
        var replica = _random.Next(service.Replicas);
        var instance = service.Instances[replica];
        _requestsPerInstance[index][replica]++;

        var selfMs = LogNormal(service.SelfMs * SelfTimeFactor(service.Name, instance), LatencySigma);
        var cursor = startNs + (long)(selfMs * 0.5 * NanosPerMs);
        var failed = false;
        foreach (var call in calls)
        {
            var (endNs, callFailed) = Call(service, instance, call, traceId, spanId, cursor);
            cursor = endNs;
            if (callFailed && _random.NextDouble() < call.ErrorPropagation)
            {
                failed = true;
            }
        }

        cursor += (long)(selfMs * 0.5 * NanosPerMs);
        if (_random.NextDouble() < ErrorRate(service, instance))
        {
            failed = true;
        }

        _spans.Add(new SpanRecord
        {
            TraceId = traceId,
            SpanId = spanId,
            ParentSpanId = parentId,
            Service = service.Name,
            ServiceInstance = instance,
            ServiceVersion = VersionOf(service),
            Name = operation,
            Kind = kind,
            StartUnixNanos = startNs,
            EndUnixNanos = cursor,
            Status = failed ? SpanStatus.Error : SpanStatus.Unset,
        });
        return (cursor, failed);
    }

    private (long EndNs, bool Failed) Call(ServiceSpec caller, string callerInstance, CallNode call, UInt128 traceId, ulong parentId, long startNs)
    {
        return call.Kind switch
        {
            CallKind.Database => CallDatabase(caller, callerInstance, call, traceId, parentId, startNs),
            CallKind.Publish => Publish(caller, callerInstance, call, traceId, parentId, startNs),
            _ => CallService(caller, callerInstance, call, traceId, parentId, startNs),
        };
    }

    private (long EndNs, bool Failed) CallService(ServiceSpec caller, string callerInstance, CallNode call, UInt128 traceId, ulong parentId, long startNs)
    {
        var callee = ShopTopology.Services[_serviceIndex[call.Callee]];
        var lossProbability = PacketLoss(call.Callee);
        var attempts = lossProbability > 0 ? MaxAttempts : 1;
        var cursor = startNs;
        for (var attempt = 1; attempt <= attempts; attempt++)
        {
            var clientId = NextId();
            if (lossProbability > 0 && _random.NextDouble() < lossProbability)
            {
                // The request or its answer was lost: the client waits for its deadline and the
                // server never records the call.
                var timeoutEnd = cursor + (long)(LogNormal(RetryTimeoutMs, 0.05) * NanosPerMs);
                AddClientSpan(caller, callerInstance, call, traceId, clientId, parentId, cursor, timeoutEnd, failed: true, SpanKind.Client);
                cursor = timeoutEnd + (long)(LogNormal(10, 0.3) * NanosPerMs);
                if (attempt == attempts)
                {
                    return (cursor, true);
                }

                continue;
            }

            var rttMs = LogNormal(ShopTopology.NetworkMs, 0.3) + EdgeDelayMs(caller.Name, call.Callee);
            var serverStart = cursor + (long)(rttMs * 0.5 * NanosPerMs);
            var (serverEnd, failed) = Serve(callee, call.Operation, call.Children, traceId, NextId(), clientId, serverStart, SpanKind.Server);
            var clientEnd = serverEnd + (long)(rttMs * 0.5 * NanosPerMs);
            AddClientSpan(caller, callerInstance, call, traceId, clientId, parentId, cursor, clientEnd, failed, SpanKind.Client);
            return (clientEnd, failed);
        }

        return (cursor, true);
    }

    private (long EndNs, bool Failed) CallDatabase(ServiceSpec caller, string callerInstance, CallNode call, UInt128 traceId, ulong parentId, long startNs)
    {
        var queryMs = LogNormal(ShopTopology.DatabaseMs * DatabaseFactor(), LatencySigma) + LogNormal(ShopTopology.NetworkMs, 0.3);
        var endNs = startNs + (long)(queryMs * NanosPerMs);
        var failed = _random.NextDouble() < 0.0002;
        AddClientSpan(caller, callerInstance, call, traceId, NextId(), parentId, startNs, endNs, failed, SpanKind.Client);
        return (endNs, failed);
    }

    private (long EndNs, bool Failed) Publish(ServiceSpec caller, string callerInstance, CallNode call, UInt128 traceId, ulong parentId, long startNs)
    {
        var producerId = NextId();
        var endNs = startNs + (long)(LogNormal(ShopTopology.QueueMs, LatencySigma) * NanosPerMs);
        AddClientSpan(caller, callerInstance, call, traceId, producerId, parentId, startNs, endNs, failed: false, SpanKind.Producer);

        // Subscribers process the message later, in their own consumer span under the producer span;
        // the publisher does not wait for them.
        var consumeStart = endNs + (long)(LogNormal(25, 0.5) * NanosPerMs);
        foreach (var subscriber in call.Children)
        {
            var service = ShopTopology.Services[_serviceIndex[subscriber.Callee]];
            _ = Serve(service, subscriber.Operation, subscriber.Children, traceId, NextId(), producerId, consumeStart, SpanKind.Consumer);
        }

        return (endNs, false);
    }

    private void AddClientSpan(ServiceSpec caller, string callerInstance, CallNode call, UInt128 traceId, ulong spanId, ulong parentId, long startNs, long endNs, bool failed, SpanKind kind)
    {
        _spans.Add(new SpanRecord
        {
            TraceId = traceId,
            SpanId = spanId,
            ParentSpanId = parentId,
            Service = caller.Name,
            ServiceInstance = callerInstance,
            ServiceVersion = VersionOf(caller),
            Name = call.Operation,
            Kind = kind,
            StartUnixNanos = startNs,
            EndUnixNanos = endNs,
            Status = failed ? SpanStatus.Error : SpanStatus.Unset,
            PeerService = call.Callee,
            ServerAddress = call.Callee,
            DbSystem = call.Kind == CallKind.Database ? "postgresql" : null,
            MessagingSystem = call.Kind == CallKind.Publish ? "kafka" : null,
        });
    }

    private List<MetricPoint> ResourceMetrics(long minuteStartMs)
    {
        var points = new List<MetricPoint>(ShopTopology.Services.Length * 6);
        for (var s = 0; s < ShopTopology.Services.Length; s++)
        {
            var service = ShopTopology.Services[s];
            for (var r = 0; r < service.Replicas; r++)
            {
                var instance = service.Instances[r];
                var labels = "instance=" + instance;
                var cpu = 0.08 + (service.CpuPerRequestPerMinute * _requestsPerInstance[s][r]) + Normal(0, 0.015);
                var memory = service.MemoryMb + Normal(0, service.MemoryMb * 0.01);
                foreach (var fault in _options.Faults)
                {
                    if (!fault.IsActive(minuteStartMs) || !string.Equals(fault.Target, service.Name, StringComparison.Ordinal))
                    {
                        continue;
                    }

                    switch (fault.Kind)
                    {
                        case FaultKind.CpuSaturation:
                            cpu = Math.Max(cpu, 0.9 + Normal(0, 0.02));
                            break;
                        case FaultKind.MemoryLeak:
                            memory += ((service.MemoryLimitMb * 0.95) - service.MemoryMb) * fault.Progress(minuteStartMs) * fault.Intensity;
                            break;
                        case FaultKind.BadReplica when string.Equals(fault.Instance, instance, StringComparison.Ordinal):
                            cpu *= 1.6;
                            break;
                        default:
                            break;
                    }
                }

                points.Add(new MetricPoint(new SeriesKey(service.Name, "process.cpu.utilization", labels), MetricKind.Saturation, minuteStartMs, Math.Clamp(cpu, 0.0, 1.0)));
                points.Add(new MetricPoint(new SeriesKey(service.Name, "process.memory.usage", labels), MetricKind.Saturation, minuteStartMs, Math.Round(memory, 1)));
            }
        }

        return points;
    }

    /// <summary>Multiplier of a replica's own work under the active faults.</summary>
    private double SelfTimeFactor(string service, string instance)
    {
        var factor = 1.0;
        foreach (var fault in _options.Faults)
        {
            if (!fault.IsActive(_nowMs) || !string.Equals(fault.Target, service, StringComparison.Ordinal))
            {
                continue;
            }

            switch (fault.Kind)
            {
                case FaultKind.CpuSaturation:
                    // Near 100% CPU a request waits for a core: ×4 at intensity 1 (M/M/1 at ρ = 0.75 → 1/(1-ρ)).
                    factor *= 1 + (3 * fault.Intensity);
                    break;
                case FaultKind.MemoryLeak:
                    // Garbage-collection pauses grow once the heap passes half of its way to the limit.
                    var progress = fault.Progress(_nowMs);
                    factor *= 1 + (Math.Max(0, progress - 0.3) * 5 * fault.Intensity);
                    break;
                case FaultKind.BadReplica when string.Equals(fault.Instance, instance, StringComparison.Ordinal):
                    factor *= 1 + (5 * fault.Intensity);
                    break;
                default:
                    break;
            }
        }

        return factor;
    }

    private double ErrorRate(ServiceSpec service, string instance)
    {
        var rate = service.BaseErrorRate;
        foreach (var fault in _options.Faults)
        {
            if (!fault.IsActive(_nowMs) || !string.Equals(fault.Target, service.Name, StringComparison.Ordinal))
            {
                continue;
            }

            if (fault.Kind == FaultKind.ErrorBurst)
            {
                rate += 0.15 * fault.Intensity;
            }
            else if (fault.Kind == FaultKind.BadReplica && string.Equals(fault.Instance, instance, StringComparison.Ordinal))
            {
                rate += 0.10 * fault.Intensity;
            }
        }

        return Math.Min(rate, 1.0);
    }

    private string VersionOf(ServiceSpec service)
    {
        foreach (var fault in _options.Faults)
        {
            if (fault.Kind == FaultKind.ErrorBurst && fault.NewVersion is not null && fault.IsActive(_nowMs)
                && string.Equals(fault.Target, service.Name, StringComparison.Ordinal))
            {
                return fault.NewVersion;
            }
        }

        return service.Version;
    }

    private double PacketLoss(string callee)
    {
        var loss = 0.0;
        foreach (var fault in _options.Faults)
        {
            if (fault.Kind == FaultKind.PacketLossRetries && fault.IsActive(_nowMs) && string.Equals(fault.Target, callee, StringComparison.Ordinal))
            {
                // 30% of attempts lost: 9% of calls need a third try, 2.7% fail after it.
                loss = Math.Max(loss, Math.Min(0.9, 0.3 * fault.Intensity));
            }
        }

        return loss;
    }

    private double EdgeDelayMs(string caller, string callee)
    {
        var delay = 0.0;
        foreach (var fault in _options.Faults)
        {
            if (fault.Kind == FaultKind.EdgeLatency && fault.IsActive(_nowMs)
                && string.Equals(fault.Target, callee, StringComparison.Ordinal)
                && string.Equals(fault.Caller, caller, StringComparison.Ordinal))
            {
                // 60 ms of injected delay, jittered: tens of times an internal call's normal latency.
                delay += LogNormal(60 * fault.Intensity, 0.2);
            }
        }

        return delay;
    }

    private double DatabaseFactor()
    {
        var factor = 1.0;
        foreach (var fault in _options.Faults)
        {
            if (fault.Kind == FaultKind.SlowDatabase && fault.IsActive(_nowMs))
            {
                // Lock contention / a missing index: queries take ×8.
                factor *= 1 + (7 * fault.Intensity);
            }
        }

        return factor;
    }

    private GroundTruthFault ToTruth(FaultSpec fault) => new()
    {
        Id = fault.Id,
        Kind = FaultKinds.Name(fault.Kind),
        RootCause = fault.Target,
        StartMs = fault.StartMs,
        EndMs = fault.EndMs,
        Affected = fault.Kind == FaultKind.EdgeLatency
            ? [.. ShopTopology.AffectedBy(fault.Caller!).Append(fault.Target).Order(StringComparer.Ordinal)]
            : ShopTopology.AffectedBy(fault.Target),
        Instance = fault.Kind == FaultKind.BadReplica ? fault.Instance : null,
        Caller = fault.Kind == FaultKind.EdgeLatency ? fault.Caller : null,
        Version = fault.Kind == FaultKind.ErrorBurst ? fault.NewVersion : null,
    };

    private ulong NextId() => (ulong)_random.NextInt64() | 1UL;

    private double Normal(double mean, double sd)
    {
        // Box–Muller; 1 - U keeps the logarithm's argument in (0, 1].
        var u1 = 1.0 - _random.NextDouble();
        var u2 = _random.NextDouble();
        return mean + (sd * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
    }

    private double LogNormal(double median, double sigma) => median * Math.Exp(Normal(0, sigma));

    private int Poisson(double lambda)
    {
        if (lambda > 30)
        {
            // Normal approximation: above λ = 30 its error is below the simulator's own noise.
            return Math.Max(0, (int)Math.Round(Normal(lambda, Math.Sqrt(lambda))));
        }

        // Knuth's multiplication method.
        var limit = Math.Exp(-lambda);
        var k = 0;
        var p = _random.NextDouble();
        while (p > limit)
        {
            k++;
            p *= _random.NextDouble();
        }

        return k;
    }
}
