namespace Aiops.Ingestion;

/// <summary>
/// OpenTelemetry semantic-convention attribute names that are lifted out of a span's attribute
/// list into <see cref="Aiops.Core.SpanRecord"/> properties, and resource attributes we read.
/// </summary>
internal static class SpanAttributeNames
{
    public const string PeerService = "peer.service";
    public const string ServerAddress = "server.address";
    public const string NetPeerName = "net.peer.name";
    public const string DbSystem = "db.system";
    public const string MessagingSystem = "messaging.system";
    public const string ServiceName = "service.name";
    public const string ServiceInstanceId = "service.instance.id";
    public const string ServiceVersion = "service.version";
}
