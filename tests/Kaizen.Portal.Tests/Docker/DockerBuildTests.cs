using System.Net.Http.Json;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Agent;
using Kaizen.Runner.Execution.Docker;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Docker;

/// <summary>The real portal, real runners and a real Docker daemon: build settings with an image and a service.</summary>
public sealed class DockerBuildTests : PortalWithRepository
{
    public DockerBuildTests() : base(embeddedSlots: 0)
    {
    }

    private RunnerAgent StartRunner(string name, bool docker, PullPolicy policy = PullPolicy.IfMissing)
    {
        _runners.Add(OwnRunner.Start(_portal.BaseUrl, name, Path.Combine(_portal.DataDirectory, "runners", name), docker, policy));
        return _runners[^1].Agent;
    }

    private readonly List<OwnRunner> _runners = [];

    [SkippableFact]
    public async Task A_job_with_an_image_waits_for_a_docker_runner_then_runs_in_its_container_next_to_its_service()
    {
        await DockerTestImages.RequireAsync();
        var slug = await _portal.CreateProjectAsync("Containers", _repo.Path, new
        {
            image = DockerTestImages.Busybox,
            setup = new[] { "cat readme.txt" },
            jobs = new object[]
            {
                new
                {
                    name = "test",
                    commands = new[] { "test ! -e /bin/bash && echo in a container", "wget -q -O - http://web:8080/" },
                    services = new[] { new { image = DockerTestImages.Httpd, alias = "web", env = new Dictionary<string, string> { ["MESSAGE"] = "hello from web" }, ready = "8080" } },
                },
            },
            epilogue = Array.Empty<string>(),
        });
        StartRunner("shell-only", docker: false);

        var id = await _portal.StartBuildAsync(slug, "main");
        await Task.Delay(TimeSpan.FromSeconds(2));
        var waiting = await _portal.GetBuildAsync(id);
        var queued = await _portal.Api.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/v1/builds/{id}");
        var docker = StartRunner("with-docker", docker: true);
        var build = await _portal.WaitForBuildAsync(id, timeoutSeconds: 90);

        try
        {
            Assert.Equal(Status.Queued, waiting.Status);
            Assert.Equal("waiting for a runner with docker (image kaizen-test/busybox:1)", queued.GetProperty("jobs")[0].GetProperty("waiting").GetString());
            Assert.Equal(Status.Passed, build.Status);
            Assert.Contains("docker", docker.Executors);
            var job = Assert.Single(build.Jobs);
            Assert.All(job.Commands, c => Assert.Equal((Status.Passed, 0), (c.Status, c.ExitCode ?? -1)));
            Assert.Equal(
                ["kaizen: prepare image kaizen-test/busybox:1", "kaizen: prepare image kaizen-test/httpd:1", "kaizen: start services web", "cat readme.txt"],
                job.Commands.Where(c => c.Phase == "setup").Select(c => c.Text));
            Assert.All(job.Commands.Take(3), c => Assert.NotNull(c.DurationMs));
            Assert.Contains("image kaizen-test/busybox:1 present, no pull", await CommandOutputAsync(job.Id, 0));
            Assert.Contains("service web (kaizen-test/httpd:1) ready in", await CommandOutputAsync(job.Id, 2));
            var log = await _portal.LogAsync(job.Id);
            Assert.Contains("hello\n", log);
            Assert.Contains("in a container\n", log);
            Assert.Contains("hello from web\n", log);
            Assert.Contains("image kaizen-test/busybox:1 present, no pull", log);
            Assert.Contains("service web (kaizen-test/httpd:1) log:", log);
        }
        finally
        {
            // The runners remove their warm containers as they stop.
            foreach (var runner in _runners) await runner.DisposeAsync();
        }
    }

    [SkippableFact]
    public async Task A_missing_image_with_pull_policy_never_fails_its_prepare_step_naming_the_image()
    {
        await DockerTestImages.RequireAsync();
        var slug = await _portal.CreateProjectAsync("Missing image", _repo.Path, new
        {
            image = "kaizen-test/not-there:1",
            setup = new[] { "echo setup" },
            jobs = new object[] { new { name = "test", commands = new[] { "echo never runs" } } },
            epilogue = Array.Empty<string>(),
        });
        StartRunner("never-pulls", docker: true, PullPolicy.Never);

        try
        {
            var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug, "main"), timeoutSeconds: 90);

            Assert.Equal(Status.Failed, build.Status);
            var job = Assert.Single(build.Jobs);
            Assert.Contains("kaizen-test/not-there:1", job.Error);
            var step = job.Commands[0];
            Assert.Equal(("kaizen: prepare image kaizen-test/not-there:1", Status.Failed, 1), (step.Text, step.Status, step.ExitCode ?? -1));
            Assert.NotNull(step.DurationMs);
            var output = await CommandOutputAsync(job.Id, 0);
            Assert.Contains("The image kaizen-test/not-there:1 is not on this runner and its pull policy is 'never'.", output);
            Assert.All(job.Commands.Skip(1), c => Assert.Equal(Status.Skipped, c.Status));
        }
        finally
        {
            foreach (var runner in _runners) await runner.DisposeAsync();
        }
    }

    /// <summary>What one command of a job wrote, as the job log page shows it in that command's section.</summary>
    private async Task<string> CommandOutputAsync(long jobId, int index)
    {
        var chunks = await _portal.Service<LogStore>().ChunksAfterAsync(jobId, 0, CancellationToken.None);
        return string.Concat(chunks.Where(c => c.CommandIdx == index).Select(c => System.Text.Encoding.UTF8.GetString(c.Data)));
    }
}
