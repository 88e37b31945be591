using System.Reflection;
using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace Aiops.Worker.Kafka;

/// <summary>
/// The few librdkafka mock-cluster C functions Confluent.Kafka does not wrap. They are resolved
/// against the librdkafka file the process already loaded: on this Debian image Confluent.Kafka
/// falls back to its <c>centos8-librdkafka.so</c> variant (the plain one needs libsasl2), so
/// loading <c>librdkafka.so</c> by name would fail or load a second copy.
/// </summary>
internal static partial class MockClusterNative
{
    private const string Library = "librdkafka";

    static MockClusterNative() => NativeLibrary.SetDllImportResolver(typeof(MockClusterNative).Assembly, Resolve);

    /// <summary>Creates a topic on the mock cluster hosted by <paramref name="client"/>.</summary>
    public static void CreateTopic(IClient client, string topic, int partitions, int replicationFactor)
    {
        var cluster = rd_kafka_handle_mock_cluster(NativeHandle(client));
        if (cluster == IntPtr.Zero)
        {
            throw new InvalidOperationException("The client does not host a librdkafka mock cluster.");
        }

        var error = rd_kafka_mock_topic_create(cluster, topic, partitions, replicationFactor);
        if (error != 0)
        {
            throw new KafkaException((ErrorCode)error);
        }
    }

    /// <summary>
    /// Takes broker <paramref name="brokerId"/> (1..N) down: its connections are closed and new
    /// ones refused; partition leadership does not move (librdkafka's <c>rd_kafka_mock_broker_set_down</c>).
    /// </summary>
    public static void SetBrokerDown(IClient client, int brokerId) => Check(rd_kafka_mock_broker_set_down(Cluster(client), brokerId));

    /// <summary>Brings broker <paramref name="brokerId"/> back up (<c>rd_kafka_mock_broker_set_up</c>).</summary>
    public static void SetBrokerUp(IClient client, int brokerId) => Check(rd_kafka_mock_broker_set_up(Cluster(client), brokerId));

    /// <summary>
    /// Makes the next <paramref name="errors"/>.Length requests of Kafka API <paramref name="apiKey"/>
    /// (0 Produce, 1 Fetch, 8 OffsetCommit, …) to any broker fail with those error codes, in order
    /// (<c>rd_kafka_mock_push_request_errors_array</c>, the non-variadic form, safe to P/Invoke).
    /// </summary>
    public static void PushRequestErrors(IClient client, short apiKey, ReadOnlySpan<ErrorCode> errors)
    {
        var codes = new int[errors.Length];
        for (var i = 0; i < codes.Length; i++)
        {
            codes[i] = (int)errors[i];
        }

        rd_kafka_mock_push_request_errors_array(Cluster(client), apiKey, (nuint)codes.Length, codes);
    }

    /// <summary>
    /// Makes broker <paramref name="brokerId"/> the controller the mock's Metadata answers name
    /// (<c>rd_kafka_mock_set_controller_id</c>). The mock answers controller id 0 by default, which
    /// is no broker (ids start at 1), so admin requests that go to the controller wait for one
    /// until they time out ("Failed while waiting for controller").
    /// </summary>
    public static void SetControllerId(IClient client, int brokerId) => rd_kafka_mock_set_controller_id(Cluster(client), brokerId);

    private static IntPtr Cluster(IClient client)
    {
        var cluster = rd_kafka_handle_mock_cluster(NativeHandle(client));
        return cluster == IntPtr.Zero ? throw new InvalidOperationException("The client does not host a librdkafka mock cluster.") : cluster;
    }

    private static void Check(int error)
    {
        if (error != 0)
        {
            throw new KafkaException((ErrorCode)error);
        }
    }

    /// <summary>The <c>rd_kafka_t*</c> behind a client, read by reflection (Confluent.Kafka keeps it internal).</summary>
    private static IntPtr NativeHandle(IClient client)
    {
        var handle = client.Handle;
        var property = handle.GetType().GetProperty("LibrdkafkaHandle", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)
            ?? throw new InvalidOperationException("Confluent.Kafka no longer exposes Handle.LibrdkafkaHandle; the mock-cluster helper needs updating.");
        var safe = (SafeHandle)property.GetValue(handle)!;
        return safe.DangerousGetHandle();
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != Library)
        {
            return IntPtr.Zero;
        }

        // Confluent.Kafka has loaded librdkafka by the time a client exists; find its file among the mapped ones.
        if (File.Exists("/proc/self/maps"))
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                var slash = line.IndexOf('/', StringComparison.Ordinal);
                if (slash >= 0 && line.Contains("librdkafka", StringComparison.Ordinal))
                {
                    return NativeLibrary.Load(line[slash..].Trim());
                }
            }
        }

        return NativeLibrary.TryLoad("librdkafka", assembly, searchPath, out var loaded) ? loaded : IntPtr.Zero;
    }

    [LibraryImport(Library)]
    private static partial IntPtr rd_kafka_handle_mock_cluster(IntPtr rk);

    [LibraryImport(Library)]
    private static partial int rd_kafka_mock_broker_set_down(IntPtr mcluster, int brokerId);

    [LibraryImport(Library)]
    private static partial int rd_kafka_mock_broker_set_up(IntPtr mcluster, int brokerId);

    [LibraryImport(Library)]
    private static partial void rd_kafka_mock_push_request_errors_array(IntPtr mcluster, short apiKey, nuint count, [In] int[] errors);

    [LibraryImport(Library)]
    private static partial void rd_kafka_mock_set_controller_id(IntPtr mcluster, int controllerId);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int rd_kafka_mock_topic_create(IntPtr mcluster, string topic, int partitionCount, int replicationFactor);
}
