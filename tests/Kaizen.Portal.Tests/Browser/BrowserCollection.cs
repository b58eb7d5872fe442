namespace Kaizen.Portal.Tests.Browser;

/// <summary>
/// Browser tests run one after another: each drives a real Chromium against a real portal with a runner, and two
/// of those at once on a small CI machine only make live assertions slower, not the suite faster.
/// </summary>
[CollectionDefinition(Name)]
public sealed class BrowserCollection
{
    public const string Name = "Browser";
}
