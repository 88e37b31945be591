using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;

namespace Aiops.Ingestion.Text;

/// <summary>
/// A bounded cache from UTF-8 bytes to <see cref="string"/>, so the same service, metric and label
/// strings decoded a million times a second allocate once. It is a two-way set-associative table of
/// fixed size (a power of two): a lookup hashes the bytes, checks two slots and compares bytes,
/// with no allocation on a hit. On a miss the string is created, validated as UTF-8 and stored in
/// the less recently written slot, so memory stays bounded (capacity entries) however many
/// distinct strings a label explosion produces: the cache then simply misses, it never grows.
/// Not thread-safe: one per decoder.
/// </summary>
internal sealed class StringInternCache
{
    private readonly Entry[] _entries;
    private readonly int _mask;

    private struct Entry
    {
        public int Hash;
        public byte[]? Bytes;
        public string? Value;
    }

    /// <summary>Creates a cache with at least <paramref name="capacity"/> slots (rounded up to a power of two, min 16).</summary>
    public StringInternCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        int size = (int)Math.Min(1u << 30, Math.Max(16u, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)capacity)));
        _entries = new Entry[size];
        _mask = size - 1;
    }

    /// <summary>Number of slots.</summary>
    public int Capacity => _entries.Length;

    /// <summary>Misses since creation (each one allocated a string).</summary>
    public long Misses { get; private set; }

    /// <summary>
    /// Returns the string for <paramref name="utf8"/>, or false when the bytes are not valid UTF-8
    /// (the caller reports <see cref="DecodeErrorKind.InvalidUtf8"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryIntern(ReadOnlySpan<byte> utf8, out string value)
    {
        if (utf8.IsEmpty)
        {
            value = string.Empty;
            return true;
        }

        int hash = Hash(utf8);
        int i = hash & _mask;
        ref Entry a = ref _entries[i];
        if (a.Hash == hash && a.Bytes is { } ab && utf8.SequenceEqual(ab))
        {
            value = a.Value!;
            return true;
        }

        ref Entry b = ref _entries[i ^ 1];
        if (b.Hash == hash && b.Bytes is { } bb && utf8.SequenceEqual(bb))
        {
            value = b.Value!;
            return true;
        }

        return Miss(utf8, hash, i, out value);
    }

    private bool Miss(ReadOnlySpan<byte> utf8, int hash, int i, out string value)
    {
        if (!Utf8.IsValid(utf8))
        {
            value = string.Empty;
            return false;
        }

        Misses++;
        value = Encoding.UTF8.GetString(utf8);

        // Put the new entry in the empty slot if there is one, else move the first slot's
        // entry to the second (older entries drift out) and take the first.
        ref Entry a = ref _entries[i];
        ref Entry b = ref _entries[i ^ 1];
        if (a.Bytes is not null)
        {
            b = a;
        }

        a.Hash = hash;
        a.Bytes = utf8.ToArray();
        a.Value = value;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Hash(ReadOnlySpan<byte> utf8)
    {
        // FNV-1a over 8-byte words: cheap for the 5-40 byte strings that dominate, and the table
        // compares bytes on every hit so collisions cost a probe, never a wrong answer.
        ulong h = 14695981039346656037UL;
        int n = utf8.Length;
        int k = 0;
        while (k + 8 <= n)
        {
            h = (h ^ Unsafe.ReadUnaligned<ulong>(ref Unsafe.AsRef(in utf8[k]))) * 1099511628211UL;
            k += 8;
        }

        for (; k < n; k++)
        {
            h = (h ^ utf8[k]) * 1099511628211UL;
        }

        h ^= h >> 29;
        return (int)h ^ (int)(h >> 32) ^ n;
    }
}
