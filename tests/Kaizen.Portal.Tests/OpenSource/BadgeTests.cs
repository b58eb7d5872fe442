using System.Net;
using System.Net.Http.Json;
using System.Xml.Linq;
using Kaizen.Portal.Api;
using Kaizen.Portal.Badges;
using Kaizen.Portal.Tests.Integration;

namespace Kaizen.Portal.Tests.OpenSource;

/// <summary>Build badges for README files: the right state in the SVG's text, cache headers, and privacy.</summary>
public sealed class BadgeTests() : PortalWithRepository(embeddedSlots: 1)
{
    protected override async Task ArrangeRepositoryAsync()
    {
        await _repo.GitAsync("checkout", "-q", "-b", "feature/red");
        await _repo.CommitAsync("Breaks the tests", ("fail", "yes\n"));
        await _repo.GitAsync("checkout", "-q", "main");
    }

    private Task<string> CreateAsync(string name, bool isPublic) =>
        _portal.CreateProjectAsync(name, _repo.Path, PortalHost.OneJob("test ! -e fail"), isPublic);

    /// <summary>The words a badge shows (its text elements, without the shadow copies).</summary>
    private static async Task<string> BadgeTextAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/svg+xml", response.Content.Headers.ContentType!.MediaType);
        var svg = XDocument.Parse(await response.Content.ReadAsStringAsync());
        XNamespace ns = "http://www.w3.org/2000/svg";
        return string.Join(" ", svg.Descendants(ns + "text").Where(t => t.Attribute("fill-opacity") is null).Select(t => t.Value));
    }

    [Fact]
    public async Task A_public_projects_badges_show_unknown_passing_and_failing_per_branch()
    {
        var slug = await CreateAsync("Badged", isPublic: true);

        Assert.Equal("build unknown", await BadgeTextAsync(await _anonymous.GetAsync($"/badges/{slug}.svg")));
        await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug));
        await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug, "feature/red"));

        Assert.Equal("build passing", await BadgeTextAsync(await _anonymous.GetAsync($"/badges/{slug}.svg")));
        Assert.Equal("build passing", await BadgeTextAsync(await _anonymous.GetAsync($"/badges/{slug}/main.svg")));
        Assert.Equal("build failing", await BadgeTextAsync(await _anonymous.GetAsync($"/badges/{slug}/feature/red.svg")));
        Assert.Equal("build failing", await BadgeTextAsync(await _anonymous.GetAsync($"/badges/{slug}.svg?branch=feature/red")));
        Assert.Equal("build unknown", await BadgeTextAsync(await _anonymous.GetAsync($"/badges/{slug}/no-such-branch.svg")));
    }

    [Fact]
    public async Task A_badge_is_revalidated_every_time_and_unchanged_badges_answer_304()
    {
        var slug = await CreateAsync("Cached", isPublic: true);
        var first = await _anonymous.GetAsync($"/badges/{slug}.svg");
        Assert.Contains("no-cache", first.Headers.CacheControl!.ToString());
        var etag = first.Headers.ETag!;

        using var again = new HttpRequestMessage(HttpMethod.Get, $"/badges/{slug}.svg");
        again.Headers.IfNoneMatch.Add(etag);
        Assert.Equal(HttpStatusCode.NotModified, (await _anonymous.SendAsync(again)).StatusCode);

        await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug));
        using var afterBuild = new HttpRequestMessage(HttpMethod.Get, $"/badges/{slug}.svg");
        afterBuild.Headers.IfNoneMatch.Add(etag);
        Assert.Equal("build passing", await BadgeTextAsync(await _anonymous.SendAsync(afterBuild)));
    }

    [Fact]
    public async Task A_private_projects_badge_needs_its_token_and_is_a_404_without_it()
    {
        var slug = await CreateAsync("Hidden", isPublic: false);
        Assert.Equal(HttpStatusCode.NotFound, (await _anonymous.GetAsync($"/badges/{slug}.svg")).StatusCode);

        var token = await (await _portal.Api.PostAsync($"/api/v1/projects/{slug}/badge-token", null)).Content.ReadFromJsonAsync<BadgeTokenResponse>();

        Assert.Equal("build unknown", await BadgeTextAsync(await _anonymous.GetAsync($"/badges/{slug}.svg?token={token!.Token}")));
        Assert.Contains($"/badges/{slug}.svg?token={token.Token}", token.Badge);
        Assert.Equal(HttpStatusCode.NotFound, (await _anonymous.GetAsync($"/badges/{slug}.svg?token=kzb_wrong")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _anonymous.GetAsync("/badges/no-such-project.svg")).StatusCode);
        (await _portal.Api.DeleteAsync($"/api/v1/projects/{slug}/badge-token")).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.NotFound, (await _anonymous.GetAsync($"/badges/{slug}.svg?token={token.Token}")).StatusCode);
    }

    [Theory]
    [InlineData("passing", "passed")]
    [InlineData("failing", "failed")]
    [InlineData("running", "running")]
    [InlineData("running", "queued")]
    [InlineData("unknown", null)]
    public void Each_build_status_reads_as_a_badge_word(string word, string? status) =>
        Assert.Equal(word, BadgeEndpoints.Describe(status).Message);

    [Fact]
    public void A_badge_is_well_formed_svg_whose_width_grows_with_its_text_and_escapes_it()
    {
        var narrow = XDocument.Parse(BadgeSvg.Render("build", "ok", BadgeSvg.Passing));
        var wide = XDocument.Parse(BadgeSvg.Render("build", "passing with <angle> & more", BadgeSvg.Passing));

        Assert.True(double.Parse(wide.Root!.Attribute("width")!.Value, System.Globalization.CultureInfo.InvariantCulture)
                    > double.Parse(narrow.Root!.Attribute("width")!.Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("build: passing with <angle> & more", wide.Root.Attribute("aria-label")!.Value);
    }
}
