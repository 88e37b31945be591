namespace Aiops.Redaction.Tests;

public sealed class RedactorLabelSetTests
{
    private static readonly Redactor Default = new(new RedactionOptions());

    [Fact]
    public void EachValueIsFilteredUnderItsOwnKey()
    {
        // operation and instance are the pipeline's own labels (allowed, masked); user.email is not allowed.
        var result = Default.RedactLabelSet("instance=10.0.0.7,operation=GET /u/bob@example.org,user.email=bob@example.org");

        Assert.Equal("instance=[IP],operation=GET /u/[EMAIL],user.email=[REDACTED]", result);
    }

    [Fact]
    public void AValueHoldingACommaStaysWithItsKey()
    {
        // "b" has no '=', so it is part of http.route's value, not a key of its own.
        Assert.Equal("http.route=/a,b,tenant=[REDACTED]", Default.RedactLabelSet("http.route=/a,b,tenant=acme"));
    }

    [Fact]
    public void AnSloBurnRateSeriesKeepsItsSloName()
    {
        // The SLO's name comes from the configuration; redacted, an incident could not say which SLO burns.
        const string labels = "operation=POST /pay,slo=checkout-latency";

        Assert.Same(labels, Default.RedactLabelSet(labels));
    }

    [Fact]
    public void ACleanLabelSetComesBackAsTheSameInstance()
    {
        const string labels = "callee=payment,operation=charge";

        Assert.Same(labels, Default.RedactLabelSet(labels));
        Assert.Same("", Default.RedactLabelSet(""));
    }
}
