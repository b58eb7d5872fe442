using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Debug;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Debug;

/// <summary>A debug session of a job that ran in an image next to a service, through the real portal, runners and Docker
/// daemon: only a runner with Docker takes it, and the shell is in the job's container with its service reachable.</summary>
public sealed class DockerDebugSessionTests : PortalWithRepository
{
    private readonly List<OwnRunner> _runners = [];

    public DockerDebugSessionTests() : base(embeddedSlots: 0)
    {
    }

    private void StartRunner(string name, bool docker) =>
        _runners.Add(OwnRunner.Start(_portal.BaseUrl, name, Path.Combine(_portal.DataDirectory, "runners", name), docker));

    [SkippableFact]
    public async Task A_container_jobs_session_waits_for_a_docker_runner_and_opens_in_its_container_next_to_its_service()
    {
        await DockerTestImages.RequireAsync();
        var slug = await _portal.CreateProjectAsync("Containers", _repo.Path, new
        {
            image = DockerTestImages.Busybox,
            setup = Array.Empty<string>(),
            jobs = new object[]
            {
                new
                {
                    name = "test",
                    commands = new[] { "wget -q -O - http://web:8080/", "exit 4" },
                    services = new[] { new { image = DockerTestImages.Httpd, alias = "web", env = new Dictionary<string, string> { ["MESSAGE"] = "hello from web" }, ready = "8080" } },
                },
            },
            epilogue = Array.Empty<string>(),
        });
        StartRunner("with-docker", docker: true);
        try
        {
            var failed = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug), timeoutSeconds: 90);
            Assert.Equal(Status.Failed, failed.Status);
            await _runners[0].StopAsync();
            StartRunner("shell-only", docker: false);

            // Act: the shell-only runner leaves the session queued; a Docker runner takes it.
            using var started = await _portal.Api.PostAsJsonAsync($"/api/v1/jobs/{failed.Jobs[0].Id}/debug", new { minutes = 10 });
            var session = (await started.Content.ReadFromJsonAsync<DebugSessionResponse>())!;
            await Task.Delay(TimeSpan.FromSeconds(3));
            var waiting = await _portal.Api.GetFromJsonAsync<DebugSessionResponse>($"/api/v1/debug-sessions/{session.Id}");
            StartRunner("docker-again", docker: true);
            await using var terminal = await TerminalClient.ConnectAsync(_portal.BaseUrl, session.Id, PortalHost.AdminToken);
            try
            {
                await terminal.WaitForStateAsync(DebugStates.Open, timeoutSeconds: 90);
            }
            catch (Xunit.Sdk.XunitException ex)
            {
                var state = await _portal.Api.GetStringAsync($"/api/v1/debug-sessions/{session.Id}");
                throw new Xunit.Sdk.XunitException($"{ex.Message}\nSession: {state}\n{string.Join("\n", _runners.Select(r => $"Runner log:\n{r.Log}"))}");
            }
            await terminal.TypeAsync("test ! -e /bin/bash && echo in-a-container; wget -q -O - http://web:8080/; echo \"done=$((1+1))\"\r");
            await terminal.WaitForAsync("done=2");

            // Assert
            Assert.Equal(HttpStatusCode.Created, started.StatusCode);
            // Queued, or (on a busy machine) taken by the stopped runner, whose last claim the portal answered before it
            // saw it go: then the session goes back to the queue when that runner never connects. Never the shell runner's.
            Assert.NotEqual("shell-only", waiting!.Runner);
            Assert.Contains(waiting.Status, new[] { DebugStates.Queued, DebugStates.Starting });
            Assert.Equal(DockerTestImages.Busybox, waiting.Image);
            Assert.Contains("in-a-container", terminal.Screen);
            Assert.Contains("hello from web", terminal.Screen);
            Assert.Equal("docker-again", (await _portal.Api.GetFromJsonAsync<DebugSessionResponse>($"/api/v1/debug-sessions/{session.Id}"))!.Runner);
            await _portal.Api.DeleteAsync($"/api/v1/debug-sessions/{session.Id}");
            await terminal.WaitForStateAsync(DebugStates.Ended);
        }
        finally
        {
            foreach (var runner in _runners) await runner.DisposeAsync();
        }
    }
}
