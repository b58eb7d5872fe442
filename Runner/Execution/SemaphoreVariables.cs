using System.Globalization;

namespace Kaizen.Runner.Execution;

/// <summary>
/// The common <c>SEMAPHORE_*</c> variables, set in every job from the facts the runner gives as <c>KAIZEN_*</c>, so
/// commands imported from a Semaphore pipeline (<c>cache store deps-$SEMAPHORE_GIT_BRANCH …</c>) run unchanged. A value
/// the job's own variables set wins. The helper commands themselves are in semaphore.sh.
/// </summary>
public static class SemaphoreVariables
{
    /// <summary>Adds the variables to <paramref name="environment"/>, which already holds the job's and the runner's.</summary>
    public static void AddTo(IDictionary<string, string> environment, string branch, string commitSha, long buildId, long jobId, string jobName,
        string project, string workspace)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var pull = branch.StartsWith("pull/", StringComparison.Ordinal) ? branch["pull/".Length..] : null;
        var build = buildId.ToString(CultureInfo.InvariantCulture);
        var values = new Dictionary<string, string>
        {
            ["SEMAPHORE_GIT_BRANCH"] = branch,
            ["SEMAPHORE_GIT_SHA"] = commitSha,
            ["SEMAPHORE_GIT_DIR"] = workspace,
            ["SEMAPHORE_GIT_REF"] = pull is null ? $"refs/heads/{branch}" : $"refs/{branch}",
            ["SEMAPHORE_GIT_REF_TYPE"] = pull is null ? "branch" : "pull-request",
            ["SEMAPHORE_WORKFLOW_ID"] = build,
            ["SEMAPHORE_WORKFLOW_NUMBER"] = build,
            ["SEMAPHORE_PIPELINE_ID"] = build,
            ["SEMAPHORE_JOB_ID"] = jobId.ToString(CultureInfo.InvariantCulture),
            ["SEMAPHORE_JOB_NAME"] = jobName,
            ["SEMAPHORE_PROJECT_NAME"] = project,
        };
        if (pull is not null) values["SEMAPHORE_GIT_PR_NUMBER"] = pull;
        foreach (var (name, value) in values)
        {
            environment.TryAdd(name, value);
        }
    }
}
