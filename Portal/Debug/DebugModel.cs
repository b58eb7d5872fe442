namespace Kaizen.Portal.Debug;

/// <summary>What a debug session is: a fresh set-up of a finished job, or a shell next to a running one.</summary>
public static class DebugKinds
{
    /// <summary>A finished job set up again on a runner; its commands are written to a file, not run.</summary>
    public const string Debug = "debug";

    /// <summary>A shell in the environment of a job while it runs.</summary>
    public const string Attach = "attach";
}

/// <summary>A debug session's states, in order.</summary>
public static class DebugStates
{
    /// <summary>Waiting for a runner (a debug session takes a slot like a job).</summary>
    public const string Queued = "queued";

    /// <summary>A runner has it and is setting the job up; the terminal shows the set-up.</summary>
    public const string Starting = "starting";

    /// <summary>The shell is open.</summary>
    public const string Open = "open";

    /// <summary>Over (timed out, ended by someone, the shell exited, the runner went away); <see cref="DebugSessionRow.EndReason"/> says which.</summary>
    public const string Ended = "ended";
}

/// <summary>One debug session as stored, with its job's and project's names.</summary>
public sealed class DebugSessionRow
{
    public long Id { get; init; }
    public long JobId { get; init; }
    public string JobName { get; init; } = "";

    /// <summary>The job's status now (an attach session needs it running).</summary>
    public string JobStatus { get; init; } = "";
    public long BuildId { get; init; }
    public long ProjectId { get; init; }
    public string ProjectSlug { get; init; } = "";
    public string Kind { get; init; } = DebugKinds.Debug;
    public string Status { get; init; } = DebugStates.Queued;
    public long UserId { get; init; }
    public string UserName { get; init; } = "";
    public long? RunnerId { get; init; }
    public string? RunnerName { get; init; }

    /// <summary>Whether the session receives the job's secrets (admins, never for a fork's build).</summary>
    public bool WithSecrets { get; init; }

    /// <summary>Whether the runner runs the job's setup commands before opening the shell.</summary>
    public bool RunSetup { get; init; }

    /// <summary>The image the job ran in (null: the runner's shell); only a runner offering Docker takes the session.</summary>
    public string? Image { get; init; }

    public long CreatedAt { get; init; }
    public long? StartedAt { get; init; }
    public long? EndedAt { get; init; }

    /// <summary>When the session ends by itself (Unix ms); counted afresh once the shell opens; moved by extending.</summary>
    public long ExpiresAt { get; init; }

    public string? EndReason { get; init; }

    /// <summary>The command that reaches the session over SSH, once the runner offers it.</summary>
    public string? SshCommand { get; init; }

    public bool IsEnded => Status == DebugStates.Ended;
}

/// <summary>What a debug session is started with (API body and the job page's dialog).</summary>
/// <param name="Minutes">How long it stays open (default <see cref="DebugOptions.DefaultMinutes"/>).</param>
/// <param name="RunSetup">Run the job's setup commands before the shell opens (default yes).</param>
public sealed record DebugRequest(double? Minutes = null, bool? RunSetup = null);

/// <summary>Extends a session by <paramref name="Minutes"/> from now or from its current end, whichever is later.</summary>
public sealed record ExtendRequest(double? Minutes = null);
