using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Settings;

namespace Kaizen.Portal.Tests.Components.Settings;

public sealed class ContainerSettingsTests
{
    private static BuildSettings WithJob(JobSettings job, string? image = null) => new([], [job], [], image);

    private static readonly BuildSettings Full = new(
        ["echo setup"],
        [
            new JobSettings("test", ["pytest"], Image: "python:3.12-slim", Services:
            [
                new ServiceSettings("localstack/localstack:3", "aws", new Dictionary<string, string> { ["SERVICES"] = "s3,sqs", ["DEBUG"] = "1" }, "4566"),
                new ServiceSettings("registry.example.com:5000/team/db@sha256:" + new string('a', 64), "db", Ready: "pg_isready -U postgres"),
            ]),
            new JobSettings("lint", ["flake8"]),
        ],
        ["echo done"],
        Image: "kaizen-test/busybox:1");

    [Fact]
    public void Image_and_services_survive_a_yaml_round_trip()
    {
        var yaml = BuildSettingsYaml.ToYaml(Full);
        var (read, errors) = BuildSettingsYaml.FromYaml(yaml);

        Assert.Empty(errors);
        Assert.NotNull(read);
        Assert.StartsWith("image: kaizen-test/busybox:1\n", yaml);
        Assert.Contains("    ready: \"4566\"\n", yaml);
        Assert.Equal(Full.Image, read.Image);
        Assert.Equal("python:3.12-slim", read.Jobs[0].Image);
        Assert.Null(read.Jobs[1].Image);
        Assert.Null(read.Jobs[1].Services);
        var services = read.Jobs[0].Services!;
        Assert.Equal(2, services.Count);
        Assert.Equal(("localstack/localstack:3", "aws", "4566"), (services[0].Image, services[0].Alias, services[0].Ready));
        Assert.Equal(new Dictionary<string, string> { ["SERVICES"] = "s3,sqs", ["DEBUG"] = "1" }, services[0].Env);
        Assert.Equal(("db", "pg_isready -U postgres"), (services[1].Alias, services[1].Ready));
        Assert.Equal(yaml, BuildSettingsYaml.ToYaml(read));
        Assert.Empty(read.Validate());
    }

    [Fact]
    public void A_jobs_image_wins_over_the_projects_and_no_image_means_the_shell()
    {
        Assert.Equal("python:3.12-slim", Full.ImageOf(Full.Jobs[0]));
        Assert.Equal("kaizen-test/busybox:1", Full.ImageOf(Full.Jobs[1]));
        Assert.Null(new BuildSettings([], [new JobSettings("x", ["y"])], []).ImageOf(new JobSettings("x", ["y"])));

        var plan = BuildStore.Plan(1, Full, "main", "abc", "m", "a", Trigger.Manual, "admin");
        Assert.Equal(["python:3.12-slim", "kaizen-test/busybox:1"], plan.Jobs.Select(j => j.Image));
        Assert.Equal(["aws", "db"], plan.Jobs[0].Services!.Select(s => s.Alias));
        Assert.Null(plan.Jobs[1].Services);
    }

    [Theory]
    [InlineData("Python:3", "image: 'Python:3' is not an image reference")]
    [InlineData("node 20", "image: 'node 20' is not an image reference")]
    [InlineData("  ", "image: the image is empty")]
    public void Bad_image_references_are_refused_with_what_to_write(string image, string expected)
    {
        var errors = WithJob(new JobSettings("test", ["x"], Image: image)).Validate();

        Assert.Contains(errors, e => e.StartsWith($"jobs[0] ('test') {expected}", StringComparison.Ordinal));
    }

    [Fact]
    public void Services_need_an_image_a_host_name_alias_each_once_valid_env_names_and_a_real_port()
    {
        var job = new JobSettings("test", ["x"], Services:
        [
            new ServiceSettings("redis:7", "Cache_1"),
            new ServiceSettings("redis:7", "db", new Dictionary<string, string> { ["1BAD"] = "x" }, "70000"),
            new ServiceSettings("", "db"),
        ]);

        var errors = WithJob(job).Validate();

        Assert.Equal(
        [
            "jobs[0] ('test') has services but no image: services need the job to run in a container (set the job's or the project's image).",
            "jobs[0] ('test') services[0]: alias 'Cache_1' must be a host name: lower-case letters, digits and '-', starting with a letter, at most 63 characters.",
            "jobs[0] ('test') services[1]: env: '1BAD' is not a variable name (letters, digits and '_', not starting with a digit).",
            "jobs[0] ('test') services[1]: ready: 70000 is not a port (1 to 65535).",
            "jobs[0] ('test') services[2]: image: the image is empty (leave it out to run on the runner's shell).",
            "jobs[0] ('test') services[2]: another service is already called 'db'.",
        ], errors);
        Assert.Empty(WithJob(job with { Services = [new ServiceSettings("redis:7", "cache", Ready: "6379")] }, "alpine:3.20").Validate());
    }

    [Fact]
    public void Unknown_keys_in_a_service_are_reported_with_their_line()
    {
        var (settings, errors) = BuildSettingsYaml.FromYaml("jobs:\n  - name: t\n    commands: [x]\n    image: alpine:3\n    services:\n      - image: redis:7\n        port: 6379\n");

        Assert.Null(settings);
        Assert.Equal(["Line 7, column 9: unknown key 'port' in a service. Expected image, alias, env and ready."], errors);
    }

    [Fact]
    public void The_editor_keeps_image_and_services_and_checks_them_as_typed()
    {
        var draft = BuildSettingsDraft.From(Full);

        Assert.True(draft.Matches(Full));
        Assert.Equal("kaizen-test/busybox:1", draft.Image);
        Assert.StartsWith("- image: localstack/localstack:3\n  alias: aws\n", draft.Jobs[0].Services);
        Assert.False(draft.Validate().Any);

        draft.Jobs[0].Services = "- image: redis:7\n  alias: Bad Alias\n";
        draft.Jobs[1].Image = "not an image!";
        var problems = draft.Validate();

        Assert.Equal(
        [
            "The services of job test: service 1: alias 'Bad Alias' must be a host name: lower-case letters, digits and '-', starting with a letter, at most 63 characters.",
            "The image of job lint: 'not an image!' is not an image reference; write it as docker pull would, e.g. python:3.12-slim, node:20 or registry.example.com:5000/team/app:1.4.",
        ], problems.Summary);
        draft.Jobs[0].Services = "- image: redis:7\n  port: 1\n";
        Assert.Contains("unknown key 'port' in a service", draft.Validate().Services[draft.Jobs[0]]);
    }
}
