using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Kaizen.Portal.Tests.GitHub;

/// <summary>
/// Real GitHub webhook payloads from the npm package @octokit/webhooks-examples (installed by this project's build
/// into GitHub/examples), and a client that signs deliveries the way GitHub does.
/// </summary>
public static class WebhookExamples
{
    private static readonly Lazy<JsonArray?> Index = new(() =>
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Kaizen.Portal.Tests.csproj"))) dir = Path.GetDirectoryName(dir);
        var file = dir is null ? null : Path.Combine(dir, "GitHub", "examples", "node_modules", "@octokit", "webhooks-examples", "api.github.com", "index.json");
        return file is not null && File.Exists(file) ? JsonNode.Parse(File.ReadAllText(file))!.AsArray() : null;
    });

    /// <summary>Skips (or, with KAIZEN_REQUIRE_TOOLCHAINS=1, fails) when the package is not installed.</summary>
    public static void Require()
    {
        if (Index.Value is not null) return;
        const string how = "npm ci --prefix tests/Kaizen.Portal.Tests/GitHub/examples (the test project's build runs it when npm is installed)";
        if (Environment.GetEnvironmentVariable("KAIZEN_REQUIRE_TOOLCHAINS") == "1")
            throw new InvalidOperationException($"The webhook examples are missing: {how}.");
        Skip.If(true, $"The webhook examples are not installed: {how}.");
    }

    /// <summary>Every example of <paramref name="event"/>, each a fresh copy to change at will.</summary>
    public static IReadOnlyList<JsonObject> Of(string @event)
    {
        Require();
        var entry = Index.Value!.Single(e => (string?)e!["name"] == @event)!;
        return entry["examples"]!.AsArray().Select(x => x!.DeepClone().AsObject()).ToList();
    }

    public static string Sign(string secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    /// <summary>Posts a delivery as GitHub does; <paramref name="secret"/> null sends it unsigned.</summary>
    public static async Task<HttpResponseMessage> SendAsync(HttpClient client, string @event, byte[] body, string? secret,
        string? signatureOverride = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/github") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-GitHub-Event", @event);
        request.Headers.Add("X-GitHub-Delivery", Guid.NewGuid().ToString());
        request.Headers.UserAgent.ParseAdd("GitHub-Hookshot/test");
        if (signatureOverride is not null) request.Headers.Add("X-Hub-Signature-256", signatureOverride);
        else if (secret is not null) request.Headers.Add("X-Hub-Signature-256", Sign(secret, body));
        return await client.SendAsync(request);
    }

    public static Task<HttpResponseMessage> SendAsync(HttpClient client, string @event, JsonNode payload, string? secret) =>
        SendAsync(client, @event, Encoding.UTF8.GetBytes(payload.ToJsonString()), secret);
}
