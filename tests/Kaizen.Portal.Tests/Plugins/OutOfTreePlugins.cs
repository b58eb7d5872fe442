using Kaizen.Runner.Execution;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Plugins;

/// <summary>
/// Builds plugins the way a third party would: against the packed Kaizen.Sdk NuGet package, outside this
/// repository's build. Done once for all tests of the class (two real `dotnet build`s).
/// </summary>
public sealed class OutOfTreePlugins : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();

    public string GoodPluginFolder => _dir.Combine("out", "hello");
    public string ThrowingPluginFolder => _dir.Combine("out", "thrower");

    public async Task InitializeAsync()
    {
        var repoRoot = RepoRoot();
        var packages = _dir.Combine("packages");
        await RunAsync(repoRoot, "dotnet", "pack", Path.Combine(repoRoot, "Sdk"), "-o", packages, "-p:Version=0.1.0-test");
        await File.WriteAllTextAsync(_dir.Combine("NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{packages}" />
              </packageSources>
            </configuration>
            """);
        await BuildAsync("hello", """
            using Kaizen.Sdk;

            namespace Acme.Hello;

            public sealed class HelloPlugin : IStackDetector, IBuildPlanner
            {
                private string _greeting = "hello";

                public PluginInfo Info { get; } = new("hello", "Hello files", "1.2.3", "Acme", "Greets HELLO files.");

                public void Configure(PluginSettings settings) => _greeting = settings.Get("greeting", "hello");

                public IReadOnlyList<DetectedStack> Detect(IRepositoryView repository) =>
                    repository.Exists("HELLO") ? [new DetectedStack("hello", "hello", "", "a HELLO file")] : [];

                public BuildPlan PlanBuild(BuildPlanContext context) => new([], [], [],
                    [new JobSpec("greet", [$"echo {Shell.Quote(_greeting)} from the plugin && cat HELLO"])]);
            }
            """, GoodPluginFolder);
        await BuildAsync("thrower", """
            using Kaizen.Sdk;

            namespace Acme.Thrower;

            public sealed class ThrowingPlugin : IStackDetector
            {
                public PluginInfo Info { get; } = new("thrower", "Thrower", "0.0.1", "Acme");

                public IReadOnlyList<DetectedStack> Detect(IRepositoryView repository) =>
                    throw new InvalidOperationException("the detector is broken");
            }
            """, ThrowingPluginFolder);
    }

    private async Task BuildAsync(string name, string code, string output)
    {
        var project = _dir.Combine("src", name);
        Directory.CreateDirectory(project);
        await File.WriteAllTextAsync(Path.Combine(project, $"{name}.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <EnableDynamicLoading>true</EnableDynamicLoading>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Kaizen.Sdk" Version="0.1.0-test" ExcludeAssets="runtime" />
              </ItemGroup>
            </Project>
            """);
        await File.WriteAllTextAsync(Path.Combine(project, "Plugin.cs"), code);
        await RunAsync(project, "dotnet", "build", "-o", output, "--configfile", _dir.Combine("NuGet.config"));
    }

    private static async Task RunAsync(string directory, string file, params string[] args)
    {
        // Isolated from this repository's Directory.*.props (central versions, warnings as errors).
        var (result, stdout, stderr) = await ProcessRunner.CaptureAsync(new ProcessRequest(file, args, directory,
            new Dictionary<string, string?> { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1" }), CancellationToken.None);
        if (!result.Succeeded)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({result.ExitCode}):\n{stdout}\n{stderr}{result.StartError}");
    }

    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Portal.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Portal.sln not found above the test folder.");
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }
}
