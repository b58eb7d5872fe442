namespace Kaizen.Runner.Protocol;

// The runner protocol: HTTP/JSON between a runner and the portal. Every route lives under /api/runner.
// A runner authenticates with "Authorization: Bearer <runner token>" on every call except register. Calls about one job
// (stream, complete, reports) also carry that job's lease token in the X-Kaizen-Lease header: the runner token alone
// (which job code on a runner without a sandbox could read) cannot write into or finish a job.

/// <summary>Route names shared by the portal's endpoints and the runner's client.</summary>
public static class RunnerRoutes
{
    public const string Register = "/api/runner/register";
    public const string Claim = "/api/runner/claim";
    public const string Heartbeat = "/api/runner/heartbeat";
    public static string Stream(long jobId, long seq) => $"/api/runner/jobs/{jobId}/stream/{seq}";
    public static string Complete(long jobId) => $"/api/runner/jobs/{jobId}/complete";
    public static string Report(long jobId) => $"/api/runner/jobs/{jobId}/reports";

    /// <summary>The header carrying <see cref="JobAssignment.LeaseToken"/> on stream, complete and report calls.</summary>
    public const string LeaseHeader = "X-Kaizen-Lease";

    /// <summary>Set on a 401 when the runner was revoked by an admin: registering again is not the answer, stopping is.</summary>
    public const string RevokedHeader = "X-Kaizen-Runner-Revoked";

    /// <summary>The WebSocket a runner opens (outward, so runners behind NAT work) for one debug session's terminal;
    /// see <see cref="TerminalControl"/>.</summary>
    public static string Terminal(long sessionId) => $"/api/runner/debug/{sessionId}/terminal";
}

/// <summary><see cref="Sandbox"/>: what confines the runner's jobs (<see cref="RunnerSandbox"/>); runners that predate it
/// send nothing and count as <see cref="RunnerSandbox.None"/>.</summary>
public sealed record RegisterRequest(
    string RegistrationToken,
    string Name,
    int Slots,
    string Version,
    IReadOnlyList<string> Executors,
    IReadOnlyList<string> Labels,
    string? Sandbox = null);

/// <summary>What a runner says confines its jobs. A runner without a sandbox only gets jobs of private projects that are
/// not builds of fork pull requests: anything else could read its token and credentials.</summary>
public static class RunnerSandbox
{
    public const string Bubblewrap = "bubblewrap";
    public const string None = "none";

    /// <summary>A known value, or <see cref="None"/> for anything else (an unknown word never earns trust).</summary>
    public static string Normalize(string? sandbox) =>
        string.Equals(sandbox?.Trim(), Bubblewrap, StringComparison.OrdinalIgnoreCase) ? Bubblewrap : None;
}

public sealed record RegisterResponse(long RunnerId, string Token);

/// <summary>Long-poll for one job. <see cref="WaitSeconds"/> caps how long the portal holds the request. <see cref="Executors"/>
/// are what the runner can run now (<c>shell</c>, <c>docker</c>); a job that needs Docker only goes to a runner that says
/// <c>docker</c> (null: what the runner registered with). <see cref="Sandbox"/> is what confines its jobs now (null: as
/// registered); the portal takes a step down at once, a step up only from a new registration.</summary>
public sealed record ClaimRequest(int WaitSeconds = 25, IReadOnlyList<string>? Executors = null, string? Sandbox = null);

/// <summary>Everything a runner needs to run one job; commands are numbered across the three phases.
/// <see cref="JobToken"/> lets the job's own shell call the portal (artifacts) while the job runs; never the runner's token.
/// <see cref="LeaseToken"/> is this claim's secret: the runner sends it (header <see cref="RunnerRoutes.LeaseHeader"/>, and
/// in heartbeats) with everything it reports about the job, and never hands it to the job.
/// <see cref="FromFork"/>: a build of a fork's pull request; what it installs with <c>kaizen tool use</c> is thrown away.</summary>
public sealed record JobAssignment(
    long JobId,
    long BuildId,
    string ProjectSlug,
    string JobName,
    string GitUrl,
    string Branch,
    string CommitSha,
    IReadOnlyList<JobCommand> Commands,
    IReadOnlyDictionary<string, string> Environment,
    int LeaseSeconds,
    IReadOnlyList<JobSecret>? Secrets = null,
    IReadOnlyList<ReportSpec>? Reports = null,
    string? JobToken = null,
    string? Image = null,
    IReadOnlyList<ServiceSpec>? Services = null,
    DebugAssignment? Debug = null,
    string? LeaseToken = null,
    bool FromFork = false,
    int? TimeLimitSeconds = null);

/// <summary>
/// Set on a <see cref="JobAssignment"/> that is a debug session of a finished job, not a run of it: the runner sets the
/// job up again exactly as for a run (checkout, images and services, variables, secret files; the setup commands too
/// when <see cref="RunSetup"/>), writes the job's commands to <see cref="CommandsFile"/> in the workspace instead of
/// running them, and opens an interactive shell in that environment behind the terminal WebSocket
/// (<see cref="RunnerRoutes.Terminal"/>) until the session ends: the portal says <c>end</c>, the shell exits, or
/// <see cref="ExpiresAtUnixMs"/> passes (moved by <c>expires</c> messages). <see cref="JobAssignment.JobId"/> is the
/// job being debugged; the session holds one of the runner's slots while it lasts and reports nothing to the job.
/// <see cref="SshKeys"/>: the OpenSSH public keys that may log in to the session when the runner offers SSH.
/// </summary>
public sealed record DebugAssignment(long SessionId, long ExpiresAtUnixMs, bool RunSetup, IReadOnlyList<string>? SshKeys = null)
{
    /// <summary>Where the job's commands are written, relative to the workspace.</summary>
    public const string CommandsFile = "kaizen-commands.sh";
}

/// <summary>
/// A request (in <see cref="HeartbeatResponse.Attach"/>) to open a shell in the environment of a job this runner is
/// running now: same workspace, variables and container, next to the job's own shell. The runner opens the terminal
/// WebSocket for <see cref="SessionId"/>; the shell ends with the job, when the portal says <c>end</c>, or at
/// <see cref="ExpiresAtUnixMs"/>.
/// </summary>
public sealed record AttachRequest(long SessionId, long JobId, long ExpiresAtUnixMs, IReadOnlyList<string>? SshKeys = null);

/// <summary>
/// The text (JSON) messages of a terminal WebSocket; binary messages are the terminal's bytes (to the browser: what
/// the shell prints; to the shell: what the user types). Types:
/// <list type="bullet">
/// <item><c>resize</c> (browser → runner): <see cref="Cols"/> × <see cref="Rows"/>.</item>
/// <item><c>expires</c> (portal → runner, portal → browser): the session now ends at <see cref="At"/> (Unix ms).</item>
/// <item><c>end</c> (portal → runner): stop the shell and clean up; <see cref="Reason"/> says why.</item>
/// <item><c>ready</c> (runner → portal): the shell is open; <see cref="Ssh"/> is the command to reach it over SSH, if offered.</item>
/// <item><c>ended</c> (runner → portal): the session is over on the runner; <see cref="Reason"/> says why.</item>
/// <item><c>status</c> (portal → browser): <see cref="State"/> (queued, starting, open, ended), <see cref="Reason"/>,
/// <see cref="At"/> (when it expires), <see cref="Ssh"/>.</item>
/// </list>
/// </summary>
public sealed record TerminalControl(
    string Type,
    int? Cols = null,
    int? Rows = null,
    long? At = null,
    string? Reason = null,
    string? State = null,
    string? Ssh = null)
{
    public const string Resize = "resize";
    public const string Expires = "expires";
    public const string End = "end";
    public const string Ready = "ready";
    public const string Ended = "ended";
    public const string Status = "status";
}

/// <summary>
/// A service container next to a job that runs in <see cref="JobAssignment.Image"/>: reachable from the job by
/// <see cref="Alias"/> on the job's own network. <see cref="Ready"/> is a TCP port number (ready once it accepts a
/// connection) or a command run in the service's container (ready once it exits 0); null: ready once started.
/// </summary>
public sealed record ServiceSpec(string Image, string Alias, IReadOnlyDictionary<string, string>? Env = null, string? Ready = null);

/// <summary>
/// Report files a job writes, uploaded after its epilogue, pass or fail. <see cref="Kind"/> is
/// <see cref="ReportKinds.JUnit"/> or <see cref="ReportKinds.Coverage"/>; <see cref="Pattern"/> is a glob relative to the
/// workspace (<c>*</c>, <c>?</c>, <c>**</c>).
/// </summary>
public sealed record ReportSpec(string Kind, string Pattern);

public static class ReportKinds
{
    public const string JUnit = "junit";
    public const string Coverage = "coverage";

    /// <summary>The portal takes at most this much of one report file; a larger one is noted on the job, not parsed.</summary>
    public const long MaxFileBytes = 20L << 20;

    /// <summary>At most this many report files per job; the rest are noted and skipped.</summary>
    public const int MaxFilesPerJob = 50;
}

/// <summary>
/// The portal's reading of one uploaded report (POST <see cref="RunnerRoutes.Report"/>?kind=&amp;path= with the file as
/// the body), for the job's log: "42 tests, 1 failed", or why it is not a report.
/// </summary>
public sealed record ReportUploadResponse(bool Parsed, string Summary);

/// <summary>
/// A secret for one job: an environment variable (<see cref="FilePath"/> null) or a file the runner writes before the
/// first command (relative paths are under the workspace; the variable <see cref="Name"/> then holds the file's full
/// path). The runner masks <see cref="Value"/> (and each of its lines) in everything the job prints.
/// </summary>
public sealed record JobSecret(string Name, string Value, string? FilePath = null);

/// <summary>One command of a job. <see cref="Index"/> is its position across setup, main and epilogue.
/// <see cref="Script"/> is set on a <c>run-script</c> command: the runner runs that script instead of the text.</summary>
public sealed record JobCommand(int Index, CommandPhase Phase, string Text, ScriptCall? Script = null);

/// <summary>
/// The setup steps the runner performs itself, before the shell, for a job that runs in an image: one per image
/// (the job's, then each service's) and one that starts the services. The portal plans them as the job's first setup
/// commands, so the time spent pulling images and waiting for services shows in the job's timeline like any command;
/// the runner reports them as started and finished and never hands their text to a shell.
/// </summary>
public static class PrepareSteps
{
    private const string Prefix = "kaizen: ";

    /// <summary>The step text for an image: <c>kaizen: prepare image NAME</c>.</summary>
    public static string Image(string image) => $"{Prefix}prepare image {image}";

    /// <summary>The step text for starting the services: <c>kaizen: start services ALIAS, ALIAS</c>.</summary>
    public static string Services(IEnumerable<ServiceSpec> services) => $"{Prefix}start services {string.Join(", ", services.Select(s => s.Alias))}";

    /// <summary>The steps of a job with <paramref name="image"/> (none without one), in the order the runner performs them.</summary>
    public static IReadOnlyList<string> For(string? image, IReadOnlyList<ServiceSpec>? services)
    {
        if (string.IsNullOrEmpty(image))
        {
            return [];
        }

        var steps = new[] { image }.Concat((services ?? []).Select(s => s.Image)).Distinct(StringComparer.Ordinal).Select(Image).ToList();
        if (services is { Count: > 0 })
        {
            steps.Add(Services(services));
        }

        return steps;
    }

    /// <summary>Whether <paramref name="command"/> is such a step (a setup command in the form above).</summary>
    public static bool Is(JobCommand command) =>
        command.Phase == CommandPhase.Setup && command.Script is null && command.Text.StartsWith(Prefix, StringComparison.Ordinal);
}

/// <summary>
/// A shared script as a job runs it: the version recorded when the build was created, its text, the arguments as
/// written after <c>run-script NAME</c> (the job's shell expands them), and its top-level commands. Each step is
/// timed and reported as a command of its own (<see cref="ScriptStep.Index"/>); the command carrying this is the
/// script's section and ends with the script's exit status.
/// </summary>
public sealed record ScriptCall(string Name, int Version, string Arguments, string Body, IReadOnlyList<ScriptStep> Steps);

/// <summary>A top-level command of a script: the job command <see cref="Index"/> it is reported as, and where it starts in
/// the script's body (a UTF-16 offset).</summary>
public sealed record ScriptStep(int Index, int Start);

public enum CommandPhase
{
    Setup,
    Main,
    Epilogue,
}

/// <summary>Sent for each running job every few seconds; renews leases and carries cancel requests back. Only the jobs in
/// <see cref="Leases"/> with their claim's lease token are renewed; a job id without its lease is answered as unknown.</summary>
public sealed record HeartbeatRequest(IReadOnlyList<long> JobIds, IReadOnlyList<JobLease>? Leases = null);

/// <summary>A running job and the lease token its claim returned.</summary>
public sealed record JobLease(long JobId, string Lease);

/// <summary><see cref="Cancel"/>: jobs to stop now. <see cref="Unknown"/>: jobs the portal no longer holds for this runner (stop them too).
/// <see cref="Attach"/>: shells to open in running jobs' environments (each handed out once).</summary>
public sealed record HeartbeatResponse(IReadOnlyList<long> Cancel, IReadOnlyList<long> Unknown, IReadOnlyList<AttachRequest>? Attach = null);

/// <summary>
/// One ordered piece of a job's stream. Batches carry consecutive sequence numbers from 1; the portal applies a
/// batch once, so a retried upload of the same sequence number changes nothing.
/// </summary>
public sealed record StreamBatch(IReadOnlyList<LogChunk> Log, IReadOnlyList<CommandEvent> Events);

/// <summary>Raw output bytes (not necessarily valid UTF-8). <see cref="CommandIndex"/> is null for job-level output such as checkout.</summary>
public sealed record LogChunk(int? CommandIndex, byte[] Data);

/// <summary>A command started, finished or was skipped. Times are Unix milliseconds measured on the runner.</summary>
public sealed record CommandEvent(
    int Index,
    CommandEventKind Kind,
    long AtUnixMs,
    int? ExitCode = null,
    long? DurationMs = null);

public enum CommandEventKind
{
    Started,
    Finished,
    Skipped,
}

/// <summary>Ends a job. <see cref="LastSeq"/> is the last stream batch sent, so the portal knows nothing is missing.</summary>
public sealed record CompleteRequest(JobOutcome Outcome, long LastSeq, string? Error = null);

public enum JobOutcome
{
    Passed,
    Failed,
    Canceled,
}
