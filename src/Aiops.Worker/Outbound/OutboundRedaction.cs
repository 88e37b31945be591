using System.Text;
using Aiops.Redaction;
using Aiops.Worker.Processing;
using Microsoft.Extensions.Options;

namespace Aiops.Worker.Outbound;

/// <summary>
/// The one gate every exit of the worker passes: incident events (to <c>aiops.incidents</c> and
/// <c>incidents.jsonl</c>), dead letters (payload, reason and copied headers) and the replay report.
/// Built on <see cref="Redactor"/> from the <c>Redaction</c> configuration section; thread-safe.
/// </summary>
/// <remarks>
/// Incidents are redacted field by field rather than as JSON text, so ids, times, scores and trace
/// ids (hex runs a card or IP pattern could hit by chance) stay exact: free text (symptom,
/// evidence, detail, hints) is pattern-masked with every <c>{k=v,…}</c> label set in it filtered
/// by the allow-list; label strings are filtered by the allow-list; service and metric names and
/// call paths are pattern-masked.
/// </remarks>
internal sealed class OutboundRedaction
{
    /// <summary>Header on every dead letter saying how its payload was treated (<see cref="DeadLetterPayloadMode"/>, lower case).</summary>
    public const string HeaderPayload = "aiops.payload";

    private readonly byte[] _payloadHeader;

    public OutboundRedaction(IOptions<RedactionOptions> options)
        : this(options.Value)
    {
    }

    public OutboundRedaction(RedactionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Redactor = new Redactor(options);
        PayloadMode = options.DeadLetterPayload;
        _payloadHeader = Encoding.UTF8.GetBytes(PayloadMode.ToString().ToLowerInvariant());
    }

    /// <summary>The redactor (its counters say what was masked).</summary>
    public Redactor Redactor { get; }

    /// <summary>How dead-letter payloads leave the process.</summary>
    public DeadLetterPayloadMode PayloadMode { get; }

    /// <summary>Value of <see cref="HeaderPayload"/>.</summary>
    public byte[] PayloadHeaderValue => _payloadHeader;

    /// <summary>An incident event fit to leave the process.</summary>
    public IncidentMessage Incident(IncidentMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var causes = new RootCauseMessage[message.RootCauses.Count];
        for (var i = 0; i < causes.Length; i++)
        {
            var c = message.RootCauses[i];
            causes[i] = c with
            {
                Service = Name(c.Service),
                Evidence = Texts(c.Evidence),
                Path = Names(c.Path),
                Hint = c.Hint is null ? null : Text(c.Hint),
            };
        }

        var anomalies = new AnomalyMessage[message.Anomalies.Count];
        for (var i = 0; i < anomalies.Length; i++)
        {
            var a = message.Anomalies[i];
            anomalies[i] = a with
            {
                Service = Name(a.Service),
                Metric = Name(a.Metric),
                Labels = Redactor.RedactLabelSet(a.Labels),
                Detail = a.Detail is null ? null : Text(a.Detail),
            };
        }

        return message with
        {
            Symptom = Text(message.Symptom),
            Services = Names(message.Services),
            RootCauses = causes,
            Anomalies = anomalies,
            RemediationHint = message.RemediationHint is null ? null : Text(message.RemediationHint),
        };
    }

    /// <summary>Every message through <see cref="Incident"/>, in order.</summary>
    public List<IncidentMessage> Incidents(IReadOnlyList<IncidentMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var result = new List<IncidentMessage>(messages.Count);
        foreach (var m in messages)
        {
            result.Add(Incident(m));
        }

        return result;
    }

    /// <summary>A service, metric or node name: pattern-masked.</summary>
    public string Name(string name) => Redactor.RedactText(name);

    /// <summary>A series key as it may leave the process: names pattern-masked, labels through the allow-list (as an incident's anomalies are).</summary>
    public Core.SeriesKey Series(Core.SeriesKey series) => new(Name(series.Service), Name(series.Metric), Redactor.RedactLabelSet(series.Labels));

    /// <summary>
    /// Free text: every <c>{…}</c> segment holding <c>=</c> (a series' label set, as
    /// <c>SeriesKey.ToString</c> writes it) filtered by the allow-list, the rest pattern-masked.
    /// </summary>
    public string Text(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int open = text.IndexOf('{');
        if (open < 0)
        {
            return Redactor.RedactText(text);
        }

        var sb = new StringBuilder(text.Length + 16);
        int last = 0;
        while (open >= 0)
        {
            int close = text.IndexOf('}', open + 1);
            if (close < 0)
            {
                break;
            }

            var inner = text[(open + 1)..close];
            if (inner.Contains('=', StringComparison.Ordinal))
            {
                sb.Append(Redactor.RedactText(text[last..(open + 1)]));
                sb.Append(Redactor.RedactLabelSet(inner));
                last = close;
            }

            open = text.IndexOf('{', close + 1);
        }

        sb.Append(Redactor.RedactText(text[last..]));
        return sb.ToString();
    }

    /// <summary>
    /// The value (or key) bytes of a dead letter, as <see cref="PayloadMode"/> says: redacted,
    /// original, or omitted (null).
    /// </summary>
    public byte[]? DeadLetterBytes(byte[]? original) => original is null ? null : PayloadMode switch
    {
        DeadLetterPayloadMode.Original => original,
        DeadLetterPayloadMode.Omitted => null,
        _ => Redactor.RedactPayload(original),
    };

    /// <summary>
    /// A header copied from the original record onto its dead letter: headers are attributes, so
    /// the allow-list applies to their keys (a header not on it becomes the marker) and the
    /// patterns to the values of allowed ones.
    /// </summary>
    public byte[] HeaderValue(string key, byte[]? value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (value is null || value.Length == 0)
        {
            return value ?? [];
        }

        if (!Redactor.IsAllowed(key))
        {
            return Encoding.UTF8.GetBytes(Redactor.Marker);
        }

        return Redactor.RedactPayload(value);
    }

    private string[] Names(IReadOnlyList<string> names)
    {
        var result = new string[names.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = Name(names[i]);
        }

        return result;
    }

    private string[] Texts(IReadOnlyList<string> texts)
    {
        var result = new string[texts.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = Text(texts[i]);
        }

        return result;
    }
}

/// <summary>The replay report's view of a dataset, redacted like the incidents it is plotted beside.</summary>
internal static class ReplayRedaction
{
    /// <summary>
    /// A copy of <paramref name="reader"/>'s metric points with their series keys redacted as an
    /// incident's anomalies are (names pattern-masked, labels through the allow-list), so the
    /// report finds each flagged series' values under the key the redacted incident names.
    /// </summary>
    public static Replay.DatasetReader PointsFor(OutboundRedaction redaction, Replay.DatasetReader reader)
    {
        ArgumentNullException.ThrowIfNull(redaction);
        ArgumentNullException.ThrowIfNull(reader);
        var copy = new Replay.DatasetReader();
        copy.Files.AddRange(reader.Files);
        foreach (var (kind, count) in reader.Errors)
        {
            copy.Errors[kind] = count;
        }

        var keys = new Dictionary<Core.SeriesKey, Core.SeriesKey>();
        foreach (var r in reader.Records)
        {
            if (r.IsSpan)
            {
                continue;
            }

            var series = r.Point.Series;
            if (!keys.TryGetValue(series, out var redacted))
            {
                redacted = redaction.Series(series);
                keys[series] = redacted;
            }

            copy.Records.Add(r with { Point = r.Point with { Series = redacted } });
        }

        return copy;
    }

    /// <summary>
    /// The ground truth as the report prints it, its node names redacted as the incidents' are:
    /// the report quotes them, and the scores compare them with the (redacted) root causes.
    /// </summary>
    public static Simulation.GroundTruth TruthFor(OutboundRedaction redaction, Simulation.GroundTruth truth)
    {
        ArgumentNullException.ThrowIfNull(redaction);
        ArgumentNullException.ThrowIfNull(truth);
        string? Optional(string? name) => name is null ? null : redaction.Name(name);
        return truth with
        {
            Faults = [.. truth.Faults.Select(f => f with
            {
                Id = redaction.Name(f.Id),
                RootCause = redaction.Name(f.RootCause),
                Affected = [.. f.Affected.Select(redaction.Name)],
                Instance = Optional(f.Instance),
                Caller = Optional(f.Caller),
                Version = Optional(f.Version),
            })],
        };
    }
}
