using Kaizen.Portal.Api;
using Xunit.Abstractions;

namespace Kaizen.Portal.Tests.Plugins;

internal static class PlanReport
{
    /// <summary>The suggested jobs and the builds' timings, in the test output for whoever reads a run.</summary>
    public static void Print(ITestOutputHelper output, IEnumerable<StackResponse> stacks, params BuildResponse[] builds)
    {
        foreach (var job in stacks.SelectMany(s => s.Jobs))
            output.WriteLine($"{job.Name}:\n  " + string.Join("\n  ", job.Commands));
        foreach (var build in builds)
            output.WriteLine($"build {build.Id}: {build.Status} in {(build.FinishedAt - build.StartedAt)?.TotalSeconds:0.0} s; " +
                             string.Join(", ", build.Jobs.Select(j => $"{j.Name} {(j.FinishedAt - j.StartedAt)?.TotalSeconds:0.0} s")));
    }
}
