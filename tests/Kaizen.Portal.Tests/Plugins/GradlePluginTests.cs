using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Plugins;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Plugins;

/// <summary>
/// The Gradle plugin on Debian's gradle 4.4 and Kotlin 1.3, offline: the build's repositories are Debian's
/// /usr/share/maven-repo (kotlin-gradle-plugin, kotlin-stdlib, junit), and the plugin is configured with offline=true.
/// </summary>
public sealed class GradlePluginTests : IAsyncLifetime
{
    private const string Install = "apt-get install -y gradle kotlin";
    private const string MavenRepo = "/usr/share/maven-repo";

    private const string BuildGradle = """
        buildscript {
            repositories { maven { url 'file:///usr/share/maven-repo' } }
            dependencies { classpath 'org.jetbrains.kotlin:kotlin-gradle-plugin:debian' }
        }
        apply plugin: 'kotlin'
        repositories { maven { url 'file:///usr/share/maven-repo' } }
        dependencies {
            compile 'org.jetbrains.kotlin:kotlin-stdlib:debian'
            testCompile 'junit:junit:4.x'
        }
        test { testLogging { events 'passed', 'failed' } }
        """;

    private readonly TempDirectory _config = new();
    private PortalHost _portal = null!;
    private GitRepo _repo = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 2, settings: new Dictionary<string, string>
        {
            ["Kaizen:Plugins:File"] = WritePluginsJson(_config.Combine("plugins.json"), "gradle", ("offline", "true")),
        });
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("A tiny Kotlin library",
            ("settings.gradle", "rootProject.name = 'greeter'\n"),
            ("build.gradle", BuildGradle),
            ("src/main/kotlin/Greeter.kt", "fun greet(name: String) = \"Hello, $name\"\n"),
            ("src/test/kotlin/GreeterTest.kt",
                "import org.junit.Assert.assertEquals\nimport org.junit.Test\n\n" +
                "class GreeterTest {\n    @Test fun greetsByName() = assertEquals(\"Hello, Kaizen\", greet(\"Kaizen\"))\n}\n"));
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
        _config.Dispose();
    }

    [SkippableFact]
    public async Task A_kotlin_gradle_build_is_detected_applied_and_its_tests_run_offline_with_the_gradle_cache_restored_the_second_time()
    {
        Toolchain.Require(Install, "gradle", "java", $"{MavenRepo}/org/jetbrains/kotlin/kotlin-gradle-plugin", $"{MavenRepo}/junit/junit");
        var slug = await CreateProjectAsync(_portal, _repo, "Greeter");

        var stacks = await _portal.Api.GetFromJsonAsync<List<StackResponse>>($"/api/v1/projects/{slug}/stacks");
        var applied = await _portal.Api.PostAsync($"/api/v1/projects/{slug}/stacks/apply", null);
        var first = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug), timeoutSeconds: 300);
        var second = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug), timeoutSeconds: 300);

        var gradle = Assert.Single(stacks!, s => s.PluginId == "gradle");
        Assert.Equal("Kotlin Gradle build, without a wrapper (uses the runner's gradle)", gradle.Summary);
        var job = Assert.Single(gradle.Jobs);
        Assert.Equal("gradle: test", job.Name);
        Assert.Equal(
        [
            "kaizen cache restore gradle build.gradle settings.gradle -- .gradle-home/caches",
            "export GRADLE_USER_HOME=\"$PWD/.gradle-home\"",
            "gradle test --no-daemon --offline -Pkotlin.compiler.execution.strategy=in-process -Dkotlin.compiler.execution.strategy=in-process",
            "kaizen cache store gradle build.gradle settings.gradle -- .gradle-home/caches",
        ], job.Commands);
        applied.EnsureSuccessStatusCode();
        Assert.True(first.Status == Status.Passed, await _portal.DescribeAsync(first));
        Assert.True(second.Status == Status.Passed, await _portal.DescribeAsync(second));

        var firstLog = await _portal.LogAsync(Assert.Single(first.Jobs).Id);
        var secondLog = await _portal.LogAsync(Assert.Single(second.Jobs).Id);
        Assert.Contains("GreeterTest > greetsByName PASSED", firstLog); // the tests really ran
        Assert.Contains("BUILD SUCCESSFUL", firstLog);
        Assert.Contains("cache: miss for gradle-", firstLog);
        Assert.Contains("cache: stored gradle-", firstLog);
        Assert.Contains("cache: restored gradle-", secondLog);
        Assert.Contains("GreeterTest > greetsByName PASSED", secondLog);
    }

    /// <summary>
    /// A copy of the repository's plugins.json with absolute paths, only <paramref name="id"/> enabled, and
    /// <paramref name="settings"/> for it.
    /// </summary>
    internal static string WritePluginsJson(string path, string id, params (string Key, string Value)[] settings)
    {
        // The build copies the repository's plugins.json (and its plugins) beside the binaries, where the portal reads it.
        var source = PluginHost.ResolveFile(new KaizenOptions(), AppContext.BaseDirectory);
        if (!File.Exists(source)) throw new InvalidOperationException($"The repository's plugins.json was not copied to {source}.");
        var root = JsonNode.Parse(File.ReadAllText(source))!;
        foreach (var plugin in root["plugins"]!.AsArray())
        {
            plugin!["path"] = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(source)!, (string)plugin["path"]!));
            var own = (string?)plugin["id"] == id;
            plugin["enabled"] = own;
            if (own)
            {
                var values = new JsonObject();
                foreach (var (key, value) in settings) values[key] = value;
                plugin["settings"] = values;
            }
        }
        File.WriteAllText(path, root.ToJsonString());
        return path;
    }

    internal static async Task<string> CreateProjectAsync(PortalHost portal, GitRepo repo, string name)
    {
        // No settings of our own: "apply" fills them with the plugin's suggestions.
        var created = await portal.Api.PostAsJsonAsync("/api/v1/projects", new { name, gitUrl = repo.Path });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<CreatedProjectResponse>())!.Slug;
    }
}
