using System.Globalization;
using System.Security.Claims;
using System.Text;
using Dapper;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Data;
using Kaizen.Portal.Projects;

namespace Kaizen.Portal.Api;

/// <summary>A job on its own, with its build and its commands (exit codes, durations).</summary>
public sealed record JobDetailResponse(long BuildId, string Project, long? DeployId, JobResponse Job);

/// <summary>
/// <c>GET /api/v1/jobs/{id}</c>, and the log with section markers (<c>GET /api/v1/jobs/{id}/log?sections=true</c>): the
/// plain log with a header line before each section and an end line after each command, so a script can tell which
/// command printed what without the build's JSON. See <see cref="SectionedLog"/> for the format.
/// </summary>
public static class JobEndpoints
{
    public static IEndpointRouteBuilder MapJobApi(this IEndpointRouteBuilder app)
    {
        var open = app.MapOpenReads("Kaizen");
        open.MapGet("/jobs/{id:long}", GetJob).WithSummary("A job with its build, and its commands with their exit codes and durations.");
        return app;
    }

    /// <summary>The job, its build and its project when <paramref name="user"/> may read them; a deploy's job needs a
    /// signed-in user even for a public project (deployment detail).</summary>
    internal static async Task<(JobRow Job, BuildRow Build)?> ReadableAsync(long id, ClaimsPrincipal user, BuildStore builds,
        ProjectStore projects, CancellationToken ct)
    {
        var job = await builds.FindJobAsync(id, ct);
        var build = job is null ? null : await builds.FindAsync(job.BuildId, ct);
        var project = build is null ? null : await projects.FindBySlugAsync(build.ProjectSlug, ct);
        if (job is null || build is null || !ProjectAccess.CanRead(user, project) || (job.DeployId is not null && !ProjectAccess.IsSignedIn(user)))
            return null;
        return (job, build);
    }

    private static async Task<IResult> GetJob(long id, BuildStore builds, ProjectStore projects, ClaimsPrincipal user, CancellationToken ct)
    {
        if (await ReadableAsync(id, user, builds, projects, ct) is not var (job, build))
            return Results.Problem($"No job {id}.", statusCode: 404);
        var commands = await builds.CommandsOfJobAsync(id, ct);
        var response = BuildResponse.From(build, [job], commands).Jobs[0];
        return Results.Ok(new JobDetailResponse(build.Id, build.ProjectSlug, job.DeployId, response));
    }
}

/// <summary>
/// Writes a job's log with section markers, streaming (the log is never held whole). The format, one marker per line:
/// <code>
/// ::kaizen:: section prepare
/// (job-level output before the first command: checkout, runner notes)
/// ::kaizen:: section command 0 setup: yarn install   (phases: setup, main, epilogue)
/// (the command's output)
/// ::kaizen:: end command 0 status=passed exit=0 duration_ms=5120
/// ::kaizen:: section complete
/// (job-level output after commands began)
/// </code>
/// Every command of the job gets its section and end line in order, also one that printed nothing or never ran
/// (<c>status=skipped</c>, or <c>pending</c> while the job still runs; no <c>exit</c>). A section's output that did not end with a line feed gets one before the next
/// marker. Output is UTF-8 (invalid bytes become U+FFFD).
/// </summary>
public sealed class SectionedLog(Database db)
{
    public const string Marker = "::kaizen::";

    public async Task WriteAsync(long jobId, IReadOnlyList<CommandRow> commands, Stream output, CancellationToken ct)
    {
        var byIdx = commands.OrderBy(c => c.Idx).ToList();
        var next = 0; // the next command (in byIdx) whose section has not been written
        var writer = new Writer(output);
        string? open = null; // "prepare", "command N" or "complete"
        CommandRow? openCommand = null;
        var sawCommand = false;

        async Task CloseAsync()
        {
            await writer.FlushDecoderAsync(ct);
            await writer.EndLineAsync(ct);
            if (openCommand is not null) await writer.MarkerAsync(EndLine(openCommand), ct);
            open = null;
            openCommand = null;
        }

        async Task OpenCommandAsync(CommandRow command)
        {
            await writer.MarkerAsync($"section command {command.Idx} {command.Phase}: {OneLine(command.Text)}", ct);
            open = $"command {command.Idx}";
            openCommand = command;
        }

        await using var c = await db.OpenAsync(ct);
        await using var reader = await c.ExecuteReaderAsync(new CommandDefinition(
            "SELECT command_idx, data FROM log_chunks WHERE job_id = @JobId ORDER BY seq, part", new { JobId = jobId }, cancellationToken: ct));
        while (await reader.ReadAsync(ct))
        {
            int? idx = reader.IsDBNull(0) ? null : Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture);
            var data = (byte[])reader[1];
            string section;
            if (idx is { } i)
            {
                sawCommand = true;
                section = $"command {i}";
            }
            else
            {
                section = sawCommand ? "complete" : "prepare";
            }
            if (section != open)
            {
                if (open is not null) await CloseAsync();
                if (idx is { } commandIdx)
                {
                    // Commands before this one that printed nothing get their (empty) sections first.
                    while (next < byIdx.Count && byIdx[next].Idx < commandIdx)
                    {
                        await OpenCommandAsync(byIdx[next++]);
                        await CloseAsync();
                    }
                    var command = next < byIdx.Count && byIdx[next].Idx == commandIdx ? byIdx[next++]
                        : byIdx.FirstOrDefault(x => x.Idx == commandIdx) ?? new CommandRow { Idx = commandIdx, Phase = "job", Text = $"command {commandIdx}" };
                    await OpenCommandAsync(command);
                }
                else
                {
                    await writer.MarkerAsync("section " + section, ct);
                    open = section;
                }
            }
            await writer.TextAsync(data, ct);
        }
        if (open is not null) await CloseAsync();
        while (next < byIdx.Count)
        {
            await OpenCommandAsync(byIdx[next++]);
            await CloseAsync();
        }
        await writer.FlushAsync(ct);
    }

    private static string EndLine(CommandRow command)
    {
        var status = command.Status is { Length: > 0 } s ? s : Status.Pending;
        var line = new StringBuilder($"end command {command.Idx} status={status}");
        if (command.ExitCode is { } exit) line.Append(CultureInfo.InvariantCulture, $" exit={exit}");
        if (command.DurationMs is { } ms) line.Append(CultureInfo.InvariantCulture, $" duration_ms={ms}");
        return line.ToString();
    }

    private static string OneLine(string text)
    {
        var newline = text.IndexOfAny(['\r', '\n']);
        return newline < 0 ? text : text[..newline] + " …";
    }

    /// <summary>UTF-8 out whatever came in, remembering whether the last byte written ended a line.</summary>
    private sealed class Writer(Stream output)
    {
        private readonly Decoder _decoder = new UTF8Encoding(false, false).GetDecoder();
        private readonly char[] _chars = new char[32 * 1024];
        private readonly byte[] _bytes = new byte[Encoding.UTF8.GetMaxByteCount(32 * 1024)];
        private bool _atLineStart = true;

        public async Task TextAsync(byte[] data, CancellationToken ct)
        {
            var offset = 0;
            while (offset < data.Length)
            {
                var take = Math.Min(_chars.Length / 2, data.Length - offset);
                var n = _decoder.GetChars(data, offset, take, _chars, 0, flush: false);
                offset += take;
                await WriteCharsAsync(n, ct);
            }
        }

        public async Task FlushDecoderAsync(CancellationToken ct)
        {
            var n = _decoder.GetChars([], 0, 0, _chars, 0, flush: true);
            await WriteCharsAsync(n, ct);
        }

        public async Task EndLineAsync(CancellationToken ct)
        {
            if (!_atLineStart) await WriteStringAsync("\n", ct);
        }

        public async Task MarkerAsync(string text, CancellationToken ct)
        {
            await EndLineAsync(ct);
            await WriteStringAsync($"{Marker} {text}\n", ct);
        }

        public Task FlushAsync(CancellationToken ct) => output.FlushAsync(ct);

        private async Task WriteCharsAsync(int count, CancellationToken ct)
        {
            if (count == 0) return;
            var written = Encoding.UTF8.GetBytes(_chars, 0, count, _bytes, 0);
            await output.WriteAsync(_bytes.AsMemory(0, written), ct);
            _atLineStart = _chars[count - 1] == '\n';
        }

        private async Task WriteStringAsync(string text, CancellationToken ct)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            await output.WriteAsync(bytes, ct);
            _atLineStart = text.EndsWith('\n');
        }
    }
}
