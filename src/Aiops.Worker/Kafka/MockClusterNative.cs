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

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int rd_kafka_mock_topic_create(IntPtr mcluster, string topic, int partitionCount, int replicationFactor);
}
