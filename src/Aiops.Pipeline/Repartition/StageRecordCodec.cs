using System.Text;
using Aiops.Core;
using Aiops.Topology;

namespace Aiops.Pipeline.Repartition;

/// <summary>
/// The binary format of the internal topics: a batch of <see cref="StageRecord"/>s per Kafka
/// message. Layout (little-endian, strings as a 7-bit-encoded UTF-8 length and bytes, a nullable
/// string behind a presence byte): magic "ARP" (3 bytes), format version (1 byte, now 2), record
/// count (int32), then per record its kind (1 byte: 1 watermark, 2 partial, 3 verdict, 4 sustain,
/// 5 graph fact, 6 SLO share), source (int32), event time (int64) and the kind's fields in
/// declaration order. Version 2 added kind 6 and changed nothing else, so a version-1 batch (an
/// older member of the group, or one still on the topic after an upgrade) decodes as it was.
/// </summary>
/// <remarks>
/// Binary rather than JSON because the partial buckets carry sketch bins: a one-minute bucket of a
/// busy series holds 100–300 non-empty bins at 1 % accuracy, 8 bytes each here against ~20 as
/// JSON text. A reader refuses another magic, a version older than 1 or newer than its own with an
/// <see cref="InvalidDataException"/> naming what it found, so a mixed-version group fails loudly
/// instead of misreading.
/// </remarks>
public static class StageRecordCodec
{
    /// <summary>Format version written by this build.</summary>
    public const byte Version = 2;

    /// <summary>Oldest format version this build still reads (version 2 only added the SLO share kind).</summary>
    public const byte OldestReadableVersion = 1;

    private static ReadOnlySpan<byte> Magic => "ARP"u8;

    /// <summary>Encodes one batch.</summary>
    public static byte[] Encode(IReadOnlyList<StageRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        using var stream = new MemoryStream(64 + (records.Count * 64));
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(Version);
            w.Write(records.Count);
            foreach (var record in records)
            {
                Write(w, record);
            }
        }

        return stream.ToArray();
    }

    /// <summary>Decodes one batch; throws <see cref="InvalidDataException"/> on anything that is not one.</summary>
    public static List<StageRecord> Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < 8 || !data[..3].SequenceEqual(Magic))
        {
            throw new InvalidDataException($"Not a repartition record batch ({data.Length} bytes, no \"ARP\" magic).");
        }

        if (data[3] < OldestReadableVersion || data[3] > Version)
        {
            throw new InvalidDataException($"Repartition record batch version {data[3]} is not supported (this build reads {OldestReadableVersion} to {Version}).");
        }

        using var stream = new MemoryStream(data.ToArray(), writable: false);
        using var r = new BinaryReader(stream, Encoding.UTF8);
        stream.Position = 4;
        try
        {
            int count = r.ReadInt32();
            if (count < 0 || count > data.Length)
            {
                throw new InvalidDataException($"Repartition record batch claims {count} records in {data.Length} bytes.");
            }

            var records = new List<StageRecord>(count);
            for (int i = 0; i < count; i++)
            {
                records.Add(Read(r, data[3]));
            }

            if (stream.Position != stream.Length)
            {
                throw new InvalidDataException($"Repartition record batch has {stream.Length - stream.Position} bytes after its {count} records.");
            }

            return records;
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("Repartition record batch is truncated.", e);
        }
    }

    internal static void Write(BinaryWriter w, StageRecord record)
    {
        byte kind = record switch
        {
            WatermarkRecord => 1,
            PartialRecord => 2,
            VerdictRecord => 3,
            SustainRecord => 4,
            GraphFactRecord => 5,
            SloShareRecord => 6,
            _ => throw new ArgumentException($"Unknown stage record type {record.GetType().Name}.", nameof(record)),
        };
        w.Write(kind);
        w.Write(record.Source);
        w.Write(record.TimeMs);
        switch (record)
        {
            case PartialRecord p:
                WritePartial(w, p.Partial);
                break;
            case VerdictRecord v:
                WriteAnomaly(w, v.Anomaly);
                WriteStrings(w, v.Exemplars);
                break;
            case SustainRecord s:
                WriteSeries(w, s.Series);
                w.Write(s.PointMs);
                break;
            case GraphFactRecord f:
                WriteFact(w, f.Fact);
                break;
            case SloShareRecord s:
                WriteSloShare(w, s.Share);
                break;
        }
    }

    internal static StageRecord Read(BinaryReader r, byte version = Version)
    {
        byte kind = r.ReadByte();
        int source = r.ReadInt32();
        long time = r.ReadInt64();
        return kind switch
        {
            1 => new WatermarkRecord { Source = source, TimeMs = time },
            2 => new PartialRecord { Source = source, TimeMs = time, Partial = ReadPartial(r) },
            3 => new VerdictRecord { Source = source, TimeMs = time, Anomaly = ReadAnomaly(r), Exemplars = ReadStrings(r) },
            4 => new SustainRecord { Source = source, TimeMs = time, Series = ReadSeries(r), PointMs = r.ReadInt64() },
            5 => new GraphFactRecord { Source = source, TimeMs = time, Fact = ReadFact(r) },
            6 when version >= 2 => new SloShareRecord { Source = source, TimeMs = time, Share = ReadSloShare(r) },
            _ => throw new InvalidDataException($"Unknown repartition record kind {kind} in a version {version} batch."),
        };
    }

    private static void WritePartial(BinaryWriter w, RedPartial p) => p.Write(w);

    private static RedPartial ReadPartial(BinaryReader r) => RedPartial.Read(r);

    private static void WriteSloShare(BinaryWriter w, SloShare s)
    {
        w.Write(s.Service);
        w.Write(s.Objective);
        w.Write(s.BucketStartMs);
        w.Write(s.Bad);
        w.Write(s.Total);
    }

    private static SloShare ReadSloShare(BinaryReader r) => new(r.ReadString(), r.ReadString(), r.ReadInt64(), r.ReadInt64(), r.ReadInt64());

    internal static void WriteAnomaly(BinaryWriter w, Anomaly a)
    {
        WriteSeries(w, a.Series);
        w.Write((byte)a.Kind);
        w.Write((byte)a.Detector);
        w.Write(a.TimestampMs);
        w.Write(a.SinceMs);
        w.Write(a.Observed);
        w.Write(a.Expected);
        w.Write(a.Lower);
        w.Write(a.Upper);
        w.Write(a.PValue);
        w.Write(a.Score);
        w.Write((sbyte)a.Direction);
        WriteNullable(w, a.Detail);
        WriteStrings(w, a.ExemplarTraceIds);
    }

    internal static Anomaly ReadAnomaly(BinaryReader r) => new()
    {
        Series = ReadSeries(r),
        Kind = (MetricKind)r.ReadByte(),
        Detector = (DetectorKind)r.ReadByte(),
        TimestampMs = r.ReadInt64(),
        SinceMs = r.ReadInt64(),
        Observed = r.ReadDouble(),
        Expected = r.ReadDouble(),
        Lower = r.ReadDouble(),
        Upper = r.ReadDouble(),
        PValue = r.ReadDouble(),
        Score = r.ReadDouble(),
        Direction = (Direction)r.ReadSByte(),
        Detail = ReadNullable(r),
        ExemplarTraceIds = ReadStrings(r),
    };

    private static void WriteFact(BinaryWriter w, GraphFact f)
    {
        w.Write((byte)f.Kind);
        w.Write(f.Node);
        WriteNullable(w, f.Other);
        WriteNullable(w, f.Version);
        w.Write(f.TimeMs);
        w.Write(f.FirstMs);
        w.Write(f.Calls);
        w.Write(f.Errors);
        w.Write(f.LatencyP50Ms);
        w.Write(f.ErrorRatio);
    }

    private static GraphFact ReadFact(BinaryReader r)
    {
        byte kind = r.ReadByte();
        if (kind > (byte)GraphFactKind.Replica)
        {
            throw new InvalidDataException($"Unknown graph fact kind {kind}.");
        }

        return new GraphFact
        {
            Kind = (GraphFactKind)kind,
            Node = r.ReadString(),
            Other = ReadNullable(r),
            Version = ReadNullable(r),
            TimeMs = r.ReadInt64(),
            FirstMs = r.ReadInt64(),
            Calls = r.ReadInt64(),
            Errors = r.ReadInt64(),
            LatencyP50Ms = r.ReadDouble(),
            ErrorRatio = r.ReadDouble(),
        };
    }

    private static void WriteSeries(BinaryWriter w, SeriesKey series) => StateFraming.WriteSeries(w, series);

    private static SeriesKey ReadSeries(BinaryReader r) => StateFraming.ReadSeries(r);

    private static void WriteStrings(BinaryWriter w, IReadOnlyList<string> values) => StateFraming.WriteStrings(w, values);

    /// <summary>A string list: no more entries than bytes left (each takes at least one).</summary>
    private static string[] ReadStrings(BinaryReader r) =>
        StateFraming.ReadStrings(r, (int)Math.Min(int.MaxValue, r.BaseStream.Length - r.BaseStream.Position), "string list");

    private static void WriteNullable(BinaryWriter w, string? value) => StateFraming.WriteNullable(w, value);

    private static string? ReadNullable(BinaryReader r) => StateFraming.ReadNullable(r);
}
