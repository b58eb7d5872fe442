using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Kaizen.Portal.Artifacts;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Artifacts;

/// <summary><c>kaizen artifact push|pull</c> in jobs that run in a container without curl: the real portal, a real
/// runner with the Docker executor and a real Docker daemon. The container's <c>kaizen</c> calls run on the host.</summary>
public sealed class ContainerArtifactTests() : PortalWithRepository(embeddedSlots: 0)
{
    // Bytes a text round trip would change: a NUL, a CR, bytes above 0x7f (busybox printf writes the octal escapes).
    private static readonly byte[] Release = [.. "tool 1.0"u8.ToArray(), 0x00, 0x0d, 0x0a, 0xbf, 0xff, 0x0a];

    [SkippableFact]
    public async Task A_container_job_pushes_a_build_artifact_and_a_download_that_the_next_container_job_pulls_byte_for_byte()
    {
        // Arrange
        await DockerTestImages.RequireAsync();
        var slug = await _portal.CreateProjectAsync("Container artifacts", _repo.Path, new
        {
            image = DockerTestImages.Busybox,
            setup = Array.Empty<string>(),
            jobs = new object[]
            {
                new
                {
                    name = "make",
                    commands = new[]
                    {
                        "! command -v curl && echo no curl here",
                        $"mkdir -p dist site && printf '{Octal(Release)}' > dist/tool-1.0.tar.gz && echo '<h1>docs</h1>' > site/index.html",
                        "kaizen artifact push dist/tool-1.0.tar.gz",
                        "kaizen artifact push site",
                        "kaizen artifact push --project dist/tool-1.0.tar.gz tool/tool-1.0.tar.gz",
                    },
                },
                new
                {
                    name = "use",
                    commands = new[]
                    {
                        "kaizen artifact pull --wait 120 tool-1.0.tar.gz build.bin",
                        "kaizen artifact pull --project tool/latest.tar.gz download.bin",
                        "kaizen artifact pull site.tar.gz docs",
                        "busybox sha256sum build.bin download.bin && cat docs/index.html",
                    },
                },
            },
            epilogue = Array.Empty<string>(),
        }, isPublic: true);
        _portal.StartRunner("with-docker");

        // Act
        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug, "main"), timeoutSeconds: 120);

        // Assert
        Assert.True(build.Status == Status.Passed, await _portal.DescribeAsync(build));
        Assert.Contains("no curl here", await _portal.LogAsync(build.Jobs.Single(j => j.Name == "make").Id));
        var log = await _portal.LogAsync(build.Jobs.Single(j => j.Name == "use").Id);
        var sha = Convert.ToHexStringLower(SHA256.HashData(Release));
        Assert.Contains($"{sha}  build.bin\n", log);
        Assert.Contains($"{sha}  download.bin\n", log);
        Assert.Contains("<h1>docs</h1>\n", log);
        using var stable = await _anonymous.GetAsync($"/downloads/{slug}/tool/latest.tar.gz");
        Assert.Equal(HttpStatusCode.OK, stable.StatusCode);
        Assert.Equal(Release, await stable.Content.ReadAsByteArrayAsync());
        Assert.Equal(Release, await _anonymous.GetByteArrayAsync($"/downloads/{slug}/tool/tool-1.0.tar.gz"));
    }

    [SkippableFact]
    public async Task A_container_job_cannot_push_a_file_outside_its_workspace_since_the_host_would_read_its_own_file()
    {
        // Arrange: /tmp/notes.txt exists in the container only; the host carries out the push.
        await DockerTestImages.RequireAsync();
        var slug = await _portal.CreateProjectAsync("Container paths", _repo.Path, new
        {
            image = DockerTestImages.Busybox,
            setup = Array.Empty<string>(),
            jobs = new object[] { new { name = "make", commands = new[] { "echo notes > /tmp/notes.txt", "kaizen artifact push /tmp/notes.txt" } } },
            epilogue = Array.Empty<string>(),
        });
        _portal.StartRunner("with-docker");

        // Act
        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug, "main"), timeoutSeconds: 120);

        // Assert
        var job = Assert.Single(build.Jobs);
        Assert.Equal(Status.Failed, job.Status);
        Assert.Equal((Status.Failed, 2), (job.Commands[^1].Status, job.Commands[^1].ExitCode ?? -1));
        Assert.Contains("artifact push: '/tmp/notes.txt' is outside the workspace", await _portal.LogAsync(job.Id));
        Assert.Empty((await _portal.Api.GetFromJsonAsync<List<ArtifactResponse>>($"/api/v1/builds/{build.Id}/artifacts"))!);
    }

    private static string Octal(byte[] bytes) => string.Concat(bytes.Select(b => "\\" + Convert.ToString(b, 8).PadLeft(3, '0')));
}
