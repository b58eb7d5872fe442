namespace Kaizen.Portal.Tests.Plugins;

/// <summary>
/// Real toolchains for plugin tests: a test whose tools are missing is skipped locally and fails in CI
/// (KAIZEN_REQUIRE_TOOLCHAINS=1) with the command that installs them.
/// </summary>
internal static class Toolchain
{
    /// <param name="install">The command that installs what is missing, for the message.</param>
    /// <param name="tools">Program names looked up on PATH, or absolute paths (files or folders) that must exist.</param>
    public static void Require(string install, params string[] tools)
    {
        var missing = tools.Where(t => !IsInstalled(t)).ToList();
        if (missing.Count == 0) return;
        var message = $"{string.Join(", ", missing)} not found; install with: {install}";
        if (Environment.GetEnvironmentVariable("KAIZEN_REQUIRE_TOOLCHAINS") == "1")
            Assert.Fail($"Required toolchain missing (KAIZEN_REQUIRE_TOOLCHAINS=1): {message}");
        Skip.If(true, message);
    }

    public static bool IsInstalled(string tool) =>
        tool.StartsWith('/')
            ? File.Exists(tool) || Directory.Exists(tool)
            : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Any(d => File.Exists(Path.Combine(d, tool)));
}
