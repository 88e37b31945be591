namespace Aiops.Ingestion.Otlp;

/// <summary>
/// Walks the second level of an OTLP export request for both signals: the scope entries
/// (<c>ScopeMetrics</c> / <c>ScopeSpans</c>, field 2 of a resource entry) and in each the items
/// (<c>metrics</c> / <c>spans</c>, field 2 of a scope entry), one item per <see cref="MoveNext"/>.
/// A malformed tag, wire type or length ends its scope entry with an error in the batch and the
/// walk goes on with the next scope entry. A ref struct over the record's bytes: no allocation.
/// </summary>
internal ref struct ScopeItemWalker
{
    private readonly int _baseOffset;
    private readonly DecodeBatch _batch;
    private readonly string _scopeMessage;
    private readonly string _itemsName;
    private ProtoReader _entry;
    private ProtoReader _scope;
    private int _scopeOffset;
    private bool _inScope;

    /// <param name="entry">The resource entry, its tags already validated by the caller's first pass.</param>
    /// <param name="baseOffset">Offset of <paramref name="entry"/> in the record, for error positions.</param>
    /// <param name="batch">Where errors go.</param>
    /// <param name="scopeMessage">The scope message's name in errors, e.g. <c>ScopeSpans</c>.</param>
    /// <param name="itemsName">The items field's name in errors, e.g. <c>spans</c>.</param>
    public ScopeItemWalker(ReadOnlySpan<byte> entry, int baseOffset, DecodeBatch batch, string scopeMessage, string itemsName)
    {
        _entry = new ProtoReader(entry);
        _baseOffset = baseOffset;
        _batch = batch;
        _scopeMessage = scopeMessage;
        _itemsName = itemsName;
    }

    /// <summary>The next item: its bytes, the record offset of its tag and of its first byte.</summary>
    public bool MoveNext(out ReadOnlySpan<byte> item, out int tagOffset, out int itemOffset)
    {
        while (true)
        {
            if (!_inScope)
            {
                if (_entry.IsAtEnd)
                {
                    item = default;
                    tagOffset = itemOffset = 0;
                    return false;
                }

                _entry.TryReadTag(out int field, out int wt);
                if (field != OtlpFields.ResourceEntryScopes)
                {
                    _entry.TrySkip(wt);
                    continue;
                }

                _entry.TryReadLengthDelimited(out ReadOnlySpan<byte> scope);
                _scopeOffset = _baseOffset + _entry.Position - scope.Length;
                _scope = new ProtoReader(scope);
                _inScope = true;
            }

            if (_scope.IsAtEnd)
            {
                _inScope = false;
                continue;
            }

            int at = _scopeOffset + _scope.Position;
            if (!_scope.TryReadTag(out int f2, out int wt2))
            {
                _batch.Errors.Add(new DecodeError(DecodeErrorKind.Truncated, $"{_scopeMessage}: malformed field tag", at));
                _inScope = false;
                continue;
            }

            if (f2 != OtlpFields.ScopeEntryItems)
            {
                if (!_scope.TrySkip(wt2))
                {
                    _batch.Errors.Add(OtlpMetricsDecoder.Skipped(_scopeMessage, f2, wt2, at));
                    _inScope = false;
                }

                continue;
            }

            if (wt2 != WireType.LengthDelimited)
            {
                _batch.Errors.Add(new DecodeError(DecodeErrorKind.WrongWireType, $"{_scopeMessage}.{_itemsName} has wire type {WireType.Name(wt2)}, expected LEN", at));
                _inScope = _scope.TrySkip(wt2);
                continue;
            }

            if (!_scope.TryReadLengthDelimited(out item))
            {
                _batch.Errors.Add(new DecodeError(DecodeErrorKind.Truncated, $"{_scopeMessage}.{_itemsName}: length runs past the end of its parent", at));
                _inScope = false;
                continue;
            }

            tagOffset = at;
            itemOffset = _scopeOffset + _scope.Position - item.Length;
            return true;
        }
    }
}
