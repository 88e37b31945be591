using System.Globalization;
using Aiops.Core;

namespace Aiops.Ingestion.Zipkin;

/// <summary>
/// The span fields that Zipkin and Jaeger carry as tags rather than as typed fields, gathered
/// while a span is read and turned into <see cref="SpanRecord"/> properties at the end: the peer
/// attributes the service graph reads (lifted out of the attribute list, as the OTLP decoder
/// does), Jaeger's <c>span.kind</c> tag, and the error signals. One instance per decoder, reset
/// per span, so the attribute list keeps its capacity. Not thread-safe.
/// </summary>
/// <remarks>
/// Status, in order of precedence: an <c>otel.status_code</c> tag (<c>OK</c>/<c>ERROR</c>, what the
/// OpenTelemetry → Zipkin/Jaeger mapping writes); an <c>error</c> tag (Zipkin: present with any
/// value means failed; Jaeger: boolean <c>true</c>); otherwise the HTTP status code under the
/// OpenTelemetry HTTP semantic conventions: 5xx is an error on every span, 4xx only on client
/// spans (a 404 is the server answering correctly).
/// </remarks>
internal sealed class ForeignSpanFields
{
    public List<SpanAttribute> Attributes { get; } = new(16);

    public string? PeerService { get; set; }

    public string? ServerAddress { get; private set; }

    public string? NetPeerName { get; private set; }

    public string? DbSystem { get; private set; }

    public string? MessagingSystem { get; private set; }

    /// <summary>Value of a <c>span.kind</c> tag (Jaeger), lower case as written.</summary>
    public string? KindTag { get; private set; }

    /// <summary>Resource-like tags (Jaeger process tags): <c>service.instance.id</c> or <c>hostname</c>.</summary>
    public string? Instance { get; set; }

    /// <summary>Resource-like tag <c>service.version</c>.</summary>
    public string? Version { get; set; }

    private SpanStatus? _otelStatus;
    private bool _errorTag;
    private int _httpStatus;

    public void Reset()
    {
        Attributes.Clear();
        PeerService = ServerAddress = NetPeerName = DbSystem = MessagingSystem = KindTag = Instance = Version = null;
        _otelStatus = null;
        _errorTag = false;
        _httpStatus = 0;
    }

    /// <summary>
    /// Records one span tag. <paramref name="errorMeansFailed"/> is Zipkin's rule (the tag's presence
    /// marks a failure, its value is the message); for Jaeger only a true value does.
    /// </summary>
    public void AddTag(string key, string value, bool errorMeansFailed)
    {
        switch (key)
        {
            case SpanAttributeNames.PeerService:
                PeerService ??= value;
                return;
            case SpanAttributeNames.ServerAddress:
                ServerAddress = value;
                return;
            case SpanAttributeNames.NetPeerName:
                NetPeerName = value;
                return;
            case SpanAttributeNames.DbSystem:
                DbSystem = value;
                return;
            case SpanAttributeNames.MessagingSystem:
                MessagingSystem = value;
                return;
            case "span.kind":
                KindTag = value;
                return;
            case "otel.status_code":
                _otelStatus = value.Equals("ERROR", StringComparison.OrdinalIgnoreCase) ? SpanStatus.Error
                    : value.Equals("OK", StringComparison.OrdinalIgnoreCase) ? SpanStatus.Ok
                    : _otelStatus;
                break;
            case "error":
                _errorTag |= errorMeansFailed || value.Equals("true", StringComparison.OrdinalIgnoreCase);
                break;
            case "http.status_code":
            case "http.response.status_code":
                if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int code))
                {
                    _httpStatus = code;
                }

                break;
            default:
                break;
        }

        Attributes.Add(new SpanAttribute(key, value));
    }

    /// <summary>The span status from the tags seen (see the remarks of the type).</summary>
    public SpanStatus Status(SpanKind kind)
    {
        if (_otelStatus is { } s)
        {
            return s;
        }

        if (_errorTag)
        {
            return SpanStatus.Error;
        }

        if (_httpStatus >= 500 || (_httpStatus >= 400 && kind == SpanKind.Client))
        {
            return SpanStatus.Error;
        }

        return SpanStatus.Unset;
    }

    /// <summary>
    /// Maps a kind name (Zipkin's upper-case <c>CLIENT</c>, Jaeger's lower-case <c>client</c>
    /// tag) to <see cref="SpanKind"/>; false when the name is unknown.
    /// </summary>
    public static bool TryParseKind(string? name, SpanKind absent, out SpanKind kind)
    {
        kind = absent;
        if (string.IsNullOrEmpty(name))
        {
            return true;
        }

        if (name.Equals("CLIENT", StringComparison.OrdinalIgnoreCase))
        {
            kind = SpanKind.Client;
        }
        else if (name.Equals("SERVER", StringComparison.OrdinalIgnoreCase))
        {
            kind = SpanKind.Server;
        }
        else if (name.Equals("PRODUCER", StringComparison.OrdinalIgnoreCase))
        {
            kind = SpanKind.Producer;
        }
        else if (name.Equals("CONSUMER", StringComparison.OrdinalIgnoreCase))
        {
            kind = SpanKind.Consumer;
        }
        else if (name.Equals("INTERNAL", StringComparison.OrdinalIgnoreCase))
        {
            kind = SpanKind.Internal;
        }
        else
        {
            return false;
        }

        return true;
    }

    /// <summary>Copies the attributes to an exact-size array (the batch outlives this reusable list).</summary>
    public IReadOnlyList<SpanAttribute> AttributesSnapshot() => Attributes.Count == 0 ? [] : Attributes.ToArray();
}
