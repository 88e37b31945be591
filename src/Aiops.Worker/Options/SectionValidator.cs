using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Aiops.Worker.Options;

/// <summary>
/// Wraps a source-generated options validator and prefixes each failure's member name with its
/// configuration section, so <c>MaxBatchRecords: …</c> reads <c>Kafka:MaxBatchRecords: …</c>: the
/// exact key an operator sets in <c>appsettings.json</c> or as <c>AIOPS_Kafka__MaxBatchRecords</c>.
/// (The generator's copy of <c>RangeAttribute</c> ignores a custom <c>ErrorMessage</c> in 10.0.15,
/// so the key cannot be put into the attribute's message instead.)
/// </summary>
internal sealed partial class SectionValidator<TOptions> : IValidateOptions<TOptions>
    where TOptions : class
{
    private readonly IValidateOptions<TOptions> _inner;
    private readonly string _section;

    public SectionValidator(IValidateOptions<TOptions> inner, string section)
    {
        _inner = inner;
        _section = section;
    }

    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var result = _inner.Validate(name, options);
        if (!result.Failed || result.Failures is null)
        {
            return result;
        }

        return ValidateOptionsResult.Fail(result.Failures.Select(f => MemberPrefix().Replace(f, _section + ":$1: ", 1)));
    }

    [GeneratedRegex(@"^(\w+): ")]
    private static partial Regex MemberPrefix();
}
