using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Kaizen.Portal.Api;
using Kaizen.Portal.Git;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Portal.Tests.Teams;
using Kaizen.Runner.Checkout;
using Kaizen.Runner.Tests.Support;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Tests.Security;

/// <summary>
/// A git URL is a request the portal's own git makes from the portal's machine. A member tries to read another
/// private project's mirror in the data folder, to probe ports on the loopback, and to publish a project; anonymous
/// readers of a public project look for the token in its address. Each attack must fail.
/// </summary>
public sealed class GitUrlTests : IAsyncLifetime
{
    private PortalHost _portal = null!;
    private GitRepo _repo = null!;
    private HttpClient _member = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 0);
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("First", ("readme.txt", "hello\n"));
        var member = await TeamsPortal.CreateUserAsync(_portal, "member-" + Guid.NewGuid().ToString("N")[..8], "member");
        _member = TeamsPortal.Client(_portal, member.Token);
    }

    public async Task DisposeAsync()
    {
        _member.Dispose();
        _repo.Dispose();
        await _portal.DisposeAsync();
    }

    [Fact]
    public async Task A_member_cannot_build_from_another_projects_mirror_or_any_path_on_the_portals_machine()
    {
        // Arrange: an admin's private project, whose mirror sits in the portal's data folder.
        var secretSlug = await _portal.CreateProjectAsync("Private", _repo.Path, PortalHost.OneJob("true"), isPublic: false);
        var secret = (await _portal.Service<ProjectStore>().FindBySlugAsync(secretSlug))!;
        var mirror = _portal.Service<GitMirror>().MirrorPath(secret.Id);
        Assert.True(Directory.Exists(mirror));

        // Act
        using var byPath = await CreateAsync(_member, mirror);
        using var byFileUrl = await CreateAsync(_member, new Uri(mirror).AbsoluteUri);
        using var elsewhere = await CreateAsync(_member, _repo.Path);

        // Assert
        foreach (var response in new[] { byPath, byFileUrl, elsewhere })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("Only admins may build from a path", await response.Content.ReadAsStringAsync());
        }
        Assert.Single(await _portal.Service<ProjectStore>().ListAsync());
    }

    [Fact]
    public async Task Not_even_an_admin_builds_from_the_portals_data_folder_but_an_admin_may_use_other_local_paths()
    {
        // Arrange
        var slug = await _portal.CreateProjectAsync("Source", _repo.Path, PortalHost.OneJob("true"));
        var mirror = _portal.Service<GitMirror>().MirrorPath((await _portal.Service<ProjectStore>().FindBySlugAsync(slug))!.Id);

        // Act
        using var response = await CreateAsync(_portal.Api, mirror);

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("inside the portal's data folder", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_member_cannot_probe_ports_on_the_portals_machine_and_learns_nothing_of_what_answers()
    {
        // Arrange: a service on the loopback that answers whatever connects with something private.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource();
        var serving = ServeBannerAsync(listener, "INTERNAL-BANNER redis_version:7", stop.Token);

        // Act
        using var https = await CreateAsync(_member, $"https://127.0.0.1:{port}/repo.git");
        using var byName = await CreateAsync(_member, $"https://localhost:{port}/repo.git");
        using var git = await CreateAsync(_member, $"git://127.0.0.1:{port}/repo.git");
        using var metadata = await CreateAsync(_member, "https://169.254.169.254/latest/meta-data");
        using var plainHttp = await CreateAsync(_member, $"http://127.0.0.1:{port}/repo.git");
        await stop.CancelAsync();

        // Assert
        foreach (var response in new[] { https, byName, git, metadata })
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("private network", text);
            Assert.DoesNotContain("INTERNAL-BANNER", text);
        }
        Assert.Equal(HttpStatusCode.BadRequest, plainHttp.StatusCode);
        Assert.Contains("http:// addresses are not allowed", await plainHttp.Content.ReadAsStringAsync());
        Assert.Empty(await _portal.Service<ProjectStore>().ListAsync());
        await serving;
    }

    [Fact]
    public async Task Only_an_admin_makes_a_project_public()
    {
        // Act
        using var response = await _member.PostAsJsonAsync("/api/v1/projects",
            new { name = "Open", gitUrl = "https://github.invalid/a/b.git", @public = true });

        // Assert
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("Only admins make a project public", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Anonymous_readers_of_a_public_project_never_see_the_credentials_in_its_git_address()
    {
        // Arrange: the address git needs, with a token in it (stored as an admin would have entered it).
        const string token = "ghp_S3cretT0ken";
        await _portal.Service<ProjectStore>().CreateAsync("Open", "open", $"https://ci-bot:{token}@git.example/org/open.git", "main", isPublic: true);
        using var anonymous = new HttpClient { BaseAddress = _portal.BaseUrl };

        // Act
        var one = await anonymous.GetFromJsonAsync<ProjectResponse>("/api/v1/projects/open");
        var listed = await anonymous.GetStringAsync("/api/v1/projects");
        var asAdmin = await _portal.Api.GetStringAsync("/api/v1/projects/open");

        // Assert
        Assert.Equal("https://***@git.example/org/open.git", one!.GitUrl);
        Assert.DoesNotContain(token, listed);
        Assert.DoesNotContain("ci-bot", listed);
        Assert.DoesNotContain(token, asAdmin);
        Assert.Contains(token, (await _portal.Service<ProjectStore>().FindBySlugAsync("open"))!.GitUrl);
    }

    private static Task<HttpResponseMessage> CreateAsync(HttpClient http, string gitUrl) =>
        http.PostAsJsonAsync("/api/v1/projects", new { name = "Probe " + Guid.NewGuid().ToString("N")[..6], gitUrl });

    private static async Task ServeBannerAsync(TcpListener listener, string banner, CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                using var client = await listener.AcceptTcpClientAsync(ct);
                await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes(banner + "\r\n"), ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}

/// <summary>The rules behind <see cref="GitUrlTests"/>, case by case, without a portal.</summary>
public sealed class GitUrlPolicyTests
{
    [Theory]
    [InlineData("Checking out https://user:tok@host/r.git at abc", "Checking out https://***@host/r.git at abc")]
    [InlineData("https://tok@host/r.git", "https://***@host/r.git")]
    [InlineData("ssh://git:pw@host/r.git", "ssh://git:***@host/r.git")]
    [InlineData("ssh://git@host/r.git", "ssh://git@host/r.git")]
    [InlineData("git@github.com:org/r.git", "git@github.com:org/r.git")]
    [InlineData("https://host/r.git", "https://host/r.git")]
    public void Credentials_are_hidden_wherever_an_address_is_shown(string shown, string expected) =>
        Assert.Equal(expected, GitUrlCredentials.Hide(shown));

    [Theory]
    [InlineData("https://127.0.0.1/r.git", "", "", false)]
    [InlineData("https://127.0.0.1/r.git", "127.0.0.1", "", true)]
    [InlineData("https://10.1.2.3/r.git", "10.0.0.0/8", "", true)]
    [InlineData("https://[::1]/r.git", "", "", false)]
    [InlineData("https://[::ffff:192.168.1.1]/r.git", "", "", false)]
    [InlineData("https://8.8.8.8/r.git", "", "", true)]
    [InlineData("https://8.8.8.8/r.git", "", "8.8.8.8", false)]
    [InlineData("https://8.8.8.8/r.git", "10.0.0.0/8", "", false)]
    [InlineData("git@10.0.0.5:org/r.git", "", "", false)]
    [InlineData("git@10.0.0.5:org/r.git", "10.0.0.5", "", true)]
    [InlineData("ftp://8.8.8.8/r.git", "", "", false)]
    public async Task Host_lists_decide_which_networks_projects_may_reach(string url, string allowed, string denied, bool ok)
    {
        // Arrange
        var options = new KaizenOptions
        {
            Git = new GitOptions
            {
                AllowedHosts = allowed.Length == 0 ? [] : [allowed],
                DeniedHosts = denied.Length == 0 ? [] : [denied],
            },
        };

        // Act
        var error = await new GitUrlPolicy(Options.Create(options)).CheckAsync(url, GitUrlRequester.Member, CancellationToken.None);

        // Assert
        Assert.True(ok == (error is null), error ?? "allowed");
    }
}
