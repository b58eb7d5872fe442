using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Kaizen.Portal.Api;
using Kaizen.Portal.GitHub;
using Kaizen.Portal.Tests.Integration;

namespace Kaizen.Portal.Tests.GitHub;

/// <summary>
/// What someone who captured a signed delivery, or who knows no secret at all, can make the portal do with webhooks:
/// replay the delivery for a second build, or make it parse what nobody signed. Both must fail.
/// </summary>
public sealed class WebhookReplayTests() : PortalWithRepository(embeddedSlots: 0)
{
    private const string Repository = "octo-org/replayed";

    [Fact]
    public async Task A_replayed_delivery_is_answered_as_already_handled_and_builds_nothing_more()
    {
        // Arrange
        var (slug, secret) = await WebhookPayloadTests.LinkedProjectAsync(_portal, _repo.Path, "Replayed", Repository);
        var sha = (await _repo.GitAsync("rev-parse", "HEAD")).Trim();
        var push = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["ref"] = "refs/heads/main", ["after"] = sha, ["repository"] = new JsonObject { ["full_name"] = Repository },
            ["head_commit"] = new JsonObject { ["message"] = "First", ["author"] = new JsonObject { ["name"] = "Octo" } },
        }.ToJsonString());
        var deliveryId = Guid.NewGuid().ToString();

        // Act
        using var first = await SendAsync("push", deliveryId, push, WebhookExamples.Sign(secret, push));
        using var replay = await SendAsync("push", deliveryId, push, WebhookExamples.Sign(secret, push));
        using var another = await SendAsync("push", Guid.NewGuid().ToString(), push, WebhookExamples.Sign(secret, push));

        // Assert
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Contains("already handled", await replay.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Created, another.StatusCode);
        var builds = (await _portal.Api.GetFromJsonAsync<BuildListResponse>($"/api/v1/projects/{slug}/builds"))!.Items;
        Assert.Equal(2, builds.Count);
        var deliveries = await _portal.Api.GetFromJsonAsync<List<WebhookDeliveryResponse>>($"/api/v1/projects/{slug}/webhook-deliveries");
        Assert.Contains(deliveries!, d => d.DeliveryId == deliveryId && d.Outcome.Contains("already handled", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_body_nobody_signed_is_refused_before_it_is_parsed()
    {
        // Arrange: a project with a secret exists; the attacker does not know it.
        await WebhookPayloadTests.LinkedProjectAsync(_portal, _repo.Path, "Guarded", Repository);
        var notJson = Encoding.UTF8.GetBytes("{ \"repository\": { \"full_name\": \"" + Repository + "\" }, this is not json");

        // Act
        using var wrongSecret = await SendAsync("push", Guid.NewGuid().ToString(), notJson, WebhookExamples.Sign("guessed", notJson));
        using var unsigned = await SendAsync("push", Guid.NewGuid().ToString(), notJson, signature: null);
        using var noDelivery = await SendAsync("push", deliveryId: null, notJson, WebhookExamples.Sign("guessed", notJson));

        // Assert: a parsed body would have answered "not JSON" (400).
        Assert.Equal(HttpStatusCode.Unauthorized, wrongSecret.StatusCode);
        Assert.DoesNotContain("JSON", await wrongSecret.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, unsigned.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, noDelivery.StatusCode);
        Assert.Contains("X-GitHub-Delivery", await noDelivery.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_delivery_when_no_project_has_a_secret_is_refused_before_its_body_is_read()
    {
        // Arrange: a project, but not linked to GitHub, so it has no webhook secret to check with.
        await _portal.CreateProjectAsync("Unlinked", _repo.Path, PortalHost.OneJob("true"));
        var body = Encoding.UTF8.GetBytes("{ this is not json");

        // Act
        using var response = await SendAsync("push", Guid.NewGuid().ToString(), body, WebhookExamples.Sign("guessed", body));

        // Assert
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("No project here has a GitHub repository with a webhook secret", await response.Content.ReadAsStringAsync());
    }

    private async Task<HttpResponseMessage> SendAsync(string @event, string? deliveryId, byte[] body, string? signature)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/github") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-GitHub-Event", @event);
        if (deliveryId is not null) request.Headers.Add("X-GitHub-Delivery", deliveryId);
        if (signature is not null) request.Headers.Add("X-Hub-Signature-256", signature);
        return await _anonymous.SendAsync(request);
    }
}
