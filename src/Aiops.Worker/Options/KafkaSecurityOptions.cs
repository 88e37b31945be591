using System.Globalization;
using Confluent.Kafka;
using Microsoft.Extensions.Options;

namespace Aiops.Worker.Options;

/// <summary>
/// How every Kafka client of the worker authenticates and encrypts: TLS (<c>Ssl</c>), SASL/SCRAM
/// or SASL/PLAIN, or both (<c>SaslSsl</c>). Bound from the <c>Kafka:Security</c> section; put the
/// secrets in environment variables (<c>AIOPS_Kafka__Security__SaslPassword</c>, e.g. from a
/// Kubernetes secret) rather than in <c>appsettings.json</c>.
/// </summary>
/// <remarks>
/// The two secrets (<see cref="SaslPassword"/>, <see cref="SslKeyPassword"/>) never appear in a
/// log line, a validation message or <see cref="ToString"/>: only whether they are set.
/// </remarks>
public sealed class KafkaSecurityOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Kafka:Security";

    /// <summary>What a secret looks like wherever the worker describes its settings.</summary>
    internal const string Mask = "***";

    /// <summary>librdkafka <c>security.protocol</c>.</summary>
    public KafkaSecurityProtocol Protocol { get; set; } = KafkaSecurityProtocol.Plaintext;

    /// <summary>librdkafka <c>sasl.mechanism</c>, for the SASL protocols. SCRAM-SHA-512 by default: the password never crosses the wire.</summary>
    public KafkaSaslMechanism SaslMechanism { get; set; } = KafkaSaslMechanism.ScramSha512;

    /// <summary>SASL user name.</summary>
    public string? SaslUsername { get; set; }

    /// <summary>SASL password (secret).</summary>
    public string? SaslPassword { get; set; }

    /// <summary>CA certificate(s) (PEM file) that sign the brokers' certificates; the system store when empty.</summary>
    public string? SslCaLocation { get; set; }

    /// <summary>Client certificate (PEM file), for mutual TLS.</summary>
    public string? SslCertificateLocation { get; set; }

    /// <summary>Client private key (PEM file), for mutual TLS.</summary>
    public string? SslKeyLocation { get; set; }

    /// <summary>Password of <see cref="SslKeyLocation"/> (secret).</summary>
    public string? SslKeyPassword { get; set; }

    /// <summary>Check that the broker's certificate names the host connected to (librdkafka <c>ssl.endpoint.identification.algorithm=https</c>). Only turn off for test clusters.</summary>
    public bool SslVerifyHostname { get; set; } = true;

    /// <summary>True when the protocol authenticates with SASL.</summary>
    public bool UsesSasl => Protocol is KafkaSecurityProtocol.SaslPlaintext or KafkaSecurityProtocol.SaslSsl;

    /// <summary>True when the protocol encrypts with TLS.</summary>
    public bool UsesTls => Protocol is KafkaSecurityProtocol.Ssl or KafkaSecurityProtocol.SaslSsl;

    /// <summary>Sets these settings on a Confluent.Kafka client configuration.</summary>
    internal void ApplyTo(ClientConfig config)
    {
        config.SecurityProtocol = Protocol switch
        {
            KafkaSecurityProtocol.Ssl => SecurityProtocol.Ssl,
            KafkaSecurityProtocol.SaslPlaintext => SecurityProtocol.SaslPlaintext,
            KafkaSecurityProtocol.SaslSsl => SecurityProtocol.SaslSsl,
            _ => SecurityProtocol.Plaintext,
        };
        if (UsesSasl)
        {
            config.SaslMechanism = SaslMechanism switch
            {
                KafkaSaslMechanism.ScramSha256 => Confluent.Kafka.SaslMechanism.ScramSha256,
                KafkaSaslMechanism.Plain => Confluent.Kafka.SaslMechanism.Plain,
                _ => Confluent.Kafka.SaslMechanism.ScramSha512,
            };
            config.SaslUsername = SaslUsername;
            config.SaslPassword = SaslPassword;
        }

        if (UsesTls)
        {
            SetIfPresent(config, "ssl.ca.location", SslCaLocation);
            SetIfPresent(config, "ssl.certificate.location", SslCertificateLocation);
            SetIfPresent(config, "ssl.key.location", SslKeyLocation);
            SetIfPresent(config, "ssl.key.password", SslKeyPassword);
            config.SslEndpointIdentificationAlgorithm = SslVerifyHostname ? SslEndpointIdentificationAlgorithm.Https : SslEndpointIdentificationAlgorithm.None;
        }
    }

    /// <summary>One line for the start-up log: protocol, mechanism, user and files, secrets masked.</summary>
    public override string ToString()
    {
        var text = new System.Text.StringBuilder(Protocol.ToString());
        if (UsesSasl)
        {
            text.Append(CultureInfo.InvariantCulture, $", SASL {SaslMechanism} as '{SaslUsername}', password {(string.IsNullOrEmpty(SaslPassword) ? "not set" : Mask)}");
        }

        if (UsesTls)
        {
            text.Append(CultureInfo.InvariantCulture, $", CA {SslCaLocation ?? "system store"}, hostname check {(SslVerifyHostname ? "on" : "off")}");
            if (SslCertificateLocation is not null)
            {
                text.Append(CultureInfo.InvariantCulture, $", client certificate {SslCertificateLocation}, key {SslKeyLocation}, key password {(string.IsNullOrEmpty(SslKeyPassword) ? "not set" : Mask)}");
            }
        }

        return text.ToString();
    }

    private static void SetIfPresent(ClientConfig config, string key, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            config.Set(key, value);
        }
    }
}

/// <summary>librdkafka <c>security.protocol</c> values the worker supports.</summary>
public enum KafkaSecurityProtocol
{
    /// <summary>No TLS, no authentication (a local or test cluster).</summary>
    Plaintext = 0,

    /// <summary>TLS, optionally with a client certificate (mutual TLS).</summary>
    Ssl = 1,

    /// <summary>SASL authentication without TLS (only inside a trusted network).</summary>
    SaslPlaintext = 2,

    /// <summary>SASL authentication over TLS: the usual setting of managed Kafka services.</summary>
    SaslSsl = 3,
}

/// <summary>SASL mechanisms the worker supports (GSSAPI/Kerberos needs libsasl2, absent from the librdkafka build used here).</summary>
public enum KafkaSaslMechanism
{
    /// <summary>SCRAM-SHA-512 (RFC 5802 / RFC 7677 family).</summary>
    ScramSha512 = 0,

    /// <summary>SCRAM-SHA-256.</summary>
    ScramSha256 = 1,

    /// <summary>PLAIN: user and password sent as they are; only over TLS.</summary>
    Plain = 2,
}

/// <summary>
/// Checks the security settings as a whole (what one protocol needs and another forbids). Every
/// message names the setting by its full key and never quotes a value, so a secret typed into the
/// wrong field cannot end up in the start-up error.
/// </summary>
internal sealed class KafkaSecurityOptionsValidator : IValidateOptions<KafkaSecurityOptions>
{
    public ValidateOptionsResult Validate(string? name, KafkaSecurityOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        const string Prefix = KafkaSecurityOptions.Section + ":";
        if (!Enum.IsDefined(options.Protocol))
        {
            failures.Add(Prefix + "Protocol: must be Plaintext, Ssl, SaslPlaintext or SaslSsl.");
        }

        if (!Enum.IsDefined(options.SaslMechanism))
        {
            failures.Add(Prefix + "SaslMechanism: must be ScramSha512, ScramSha256 or Plain.");
        }

        if (options.UsesSasl)
        {
            if (string.IsNullOrEmpty(options.SaslUsername))
            {
                failures.Add(Prefix + $"SaslUsername: required when {Prefix}Protocol is {options.Protocol}.");
            }

            if (string.IsNullOrEmpty(options.SaslPassword))
            {
                failures.Add(Prefix + $"SaslPassword: required when {Prefix}Protocol is {options.Protocol} (set it through AIOPS_Kafka__Security__SaslPassword).");
            }

            if (options.Protocol == KafkaSecurityProtocol.SaslPlaintext && options.SaslMechanism == KafkaSaslMechanism.Plain)
            {
                failures.Add(Prefix + "SaslMechanism: Plain over SaslPlaintext would send the password unencrypted; use SaslSsl or a SCRAM mechanism.");
            }
        }
        else if (!string.IsNullOrEmpty(options.SaslPassword) || !string.IsNullOrEmpty(options.SaslUsername))
        {
            failures.Add(Prefix + $"SaslUsername/SaslPassword: set, but {Prefix}Protocol is {options.Protocol}, which does not use SASL (SaslPlaintext or SaslSsl?).");
        }

        if (!options.UsesTls && (options.SslCaLocation ?? options.SslCertificateLocation ?? options.SslKeyLocation ?? options.SslKeyPassword) is not null)
        {
            failures.Add(Prefix + $"Ssl*: set, but {Prefix}Protocol is {options.Protocol}, which does not use TLS (Ssl or SaslSsl?).");
        }

        if (options.UsesTls)
        {
            CheckFile(failures, Prefix + "SslCaLocation", options.SslCaLocation);
            CheckFile(failures, Prefix + "SslCertificateLocation", options.SslCertificateLocation);
            CheckFile(failures, Prefix + "SslKeyLocation", options.SslKeyLocation);
            if ((options.SslCertificateLocation is null) != (options.SslKeyLocation is null))
            {
                failures.Add(Prefix + "SslCertificateLocation/SslKeyLocation: mutual TLS needs both the client certificate and its key.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckFile(List<string> failures, string key, string? path)
    {
        if (!string.IsNullOrEmpty(path) && !File.Exists(path))
        {
            failures.Add($"{key}: the file '{path}' does not exist.");
        }
    }
}
