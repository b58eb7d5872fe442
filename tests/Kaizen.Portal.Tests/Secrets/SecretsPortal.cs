using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Secrets;

/// <summary>One portal (no runner), a project, and a member and a viewer created through the users API.</summary>
public sealed class SecretsPortal : IAsyncLifetime
{
    public PortalHost Portal { get; private set; } = null!;
    public GitRepo Repo { get; private set; } = null!;
    public string Slug { get; private set; } = "";
    public string MemberToken { get; private set; } = "";
    public string ViewerToken { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Portal = await PortalHost.StartAsync(embeddedSlots: 0);
        Repo = await GitRepo.CreateAsync("main");
        await Repo.CommitAsync("First", ("readme.txt", "hello\n"));
        Slug = await Portal.CreateProjectAsync("Web", Repo.Path, new
        {
            setup = Array.Empty<string>(),
            jobs = new[] { new { name = "test", commands = new[] { "true" } } },
            epilogue = Array.Empty<string>(),
        });
        MemberToken = (await CreateUserAsync("member-one", "member")).Token;
        ViewerToken = (await CreateUserAsync("viewer-one", "viewer")).Token;
    }

    public async Task<CreatedUserResponse> CreateUserAsync(string name, string role, string? password = null)
    {
        using var response = await Portal.Api.PostAsJsonAsync("/api/v1/users", new { name, role, password });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<CreatedUserResponse>())!;
    }

    /// <summary>A client with <paramref name="token"/> as its bearer token, or anonymous.</summary>
    public HttpClient Client(string? token)
    {
        var http = new HttpClient { BaseAddress = Portal.BaseUrl };
        if (token is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    public async Task DisposeAsync()
    {
        await Portal.DisposeAsync();
        Repo.Dispose();
    }
}
